"""Fixtures for the tests of the benchmark's tools: the storage tests' database, as they would load it."""

from tests.storage.conftest import engine

__all__ = ["engine"]
