"""Dativo's stand-in for v1's `dativo_ingest` package, so v1 Python plugins import unchanged."""
