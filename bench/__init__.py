"""Benchmarks; a package so that job functions in :mod:`bench.jobs` are importable by reference."""
