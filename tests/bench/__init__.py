"""Tests of the benchmark's tools (bench/): what they make must be what they claim."""
