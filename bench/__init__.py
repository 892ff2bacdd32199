"""Benchmarks. Each ``bench_*.py`` module has ``run(context) -> list[Figure]``."""
