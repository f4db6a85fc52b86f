"""Benchmarks: a deterministic bulk data generator and the measurements built on it."""
