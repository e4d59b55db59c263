"""Generators with planted structure, for tests, demos and benchmarks."""
