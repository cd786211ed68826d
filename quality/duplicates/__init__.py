"""Duplicate detection: the same person or business recorded twice (Splink 5 on DuckDB)."""
