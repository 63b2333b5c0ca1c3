"""Renderers (terminal, JSON, HTML, progress): they read view results, never the ledger."""
