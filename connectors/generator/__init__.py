"""Synthetic source databases: realistic Vietnamese population, insurance, land and enterprise data with
known, injected defects and their ground truth (shared/SOURCES.md). ``generate`` is the one entry point."""

from connectors.generator.run import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
