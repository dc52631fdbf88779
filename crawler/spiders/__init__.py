"""Spiders: one generic forum spider driven by a Source (linkwatch.sources)."""
