"""Fixtures for the core's tests: the engine's context and the gazetteer, from the factories alone.

Nothing here reaches a database or Redis, and a guard holds every test to that: when tests/core runs by
itself, importing SQLAlchemy or the Redis client fails (no engine or connection can even be built); when it
runs in the whole suite, where other layers have loaded them, a test that opens a database connection fails.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from bot.core.engine import Context
from bot.core.places import Gazetteer
from tests import factories

CORE_TESTS = Path(__file__).parent
DATABASE_LIBRARIES = ("sqlalchemy", "redis")


class _RefuseDatabaseLibraries(importlib.abc.MetaPathFinder):
    """An import hook that fails the import of a database client, so a core test cannot build one."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname.split(".")[0] in DATABASE_LIBRARIES:
            raise ImportError(f"tests/core runs without a database or Redis, yet something imported {fullname}")


def pytest_collection_finish(session: pytest.Session) -> None:
    """When only core tests were collected, refuse the database libraries from here on (and say if one is
    already loaded: then a conftest or a core module imported it)."""
    if not session.items or not all(CORE_TESTS in Path(item.path).parents for item in session.items):
        return
    loaded = sorted(name for name in DATABASE_LIBRARIES if name in sys.modules)
    if loaded:
        raise pytest.UsageError(f"tests/core must run without a database or Redis, but {loaded} were imported")
    sys.meta_path.insert(0, _RefuseDatabaseLibraries())


@pytest.fixture(autouse=True)
def no_database_connection() -> Iterator[None]:
    """Fail a core test that opens a database connection (when other layers' tests have loaded SQLAlchemy)."""
    if "sqlalchemy" not in sys.modules:
        yield
        return
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def refuse(*_: object) -> None:
        raise AssertionError("a core test opened a database connection")

    event.listen(Pool, "connect", refuse)
    try:
        yield
    finally:
        event.remove(Pool, "connect", refuse)


@pytest.fixture(scope="session")
def places() -> Gazetteer:
    """The US gazetteer, built once for the run."""
    return factories.gazetteer()


@pytest.fixture(scope="session")
def context() -> Context:
    """The engine's context: the shipped main flow, the gazetteer, the shipped directory (no database)."""
    return factories.context()
