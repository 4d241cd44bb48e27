"""Benchmarks of the helpline (not tests: nothing here asserts a time). Run `bench/run.sh`; see docs/benchmark.md."""
