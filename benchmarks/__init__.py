"""Benchmarks: timings that guard the library's performance claims (run as modules)."""
