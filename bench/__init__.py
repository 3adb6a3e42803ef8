"""Benchmarks: scripts that print what they measure and end with one JSON line."""
