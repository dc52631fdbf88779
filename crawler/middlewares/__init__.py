"""Downloader middlewares: media refusal (by extension and by Content-Type)."""
