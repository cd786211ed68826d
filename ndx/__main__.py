"""``python -m ndx`` runs the CLI."""

from ndx.cli import main

main()
