"""Benchmarks of cursor-billing, run as `python -m bench` (see BENCHMARKS.md)."""
