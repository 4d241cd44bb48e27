"""Fixtures for the admin tests: the directory index as a running helpline loads it, from the SQL directory."""

from __future__ import annotations

import pytest

from bot.core.directory_index import DirectoryIndex
from bot.storage.db import make_engine, make_session_factory
from bot.storage.listings import SqlDirectory
from tests.places import shared_places


@pytest.fixture(scope="session")
def directory(database_url: str) -> SqlDirectory:
    """The real SQL directory over the shipped data."""
    return SqlDirectory(make_session_factory(make_engine(database_url)))


@pytest.fixture(scope="session")
def index(directory: SqlDirectory) -> DirectoryIndex:
    """The in-memory directory index the running helpline uses, loaded from the real SQL directory."""
    version, listings = directory.listings()
    return DirectoryIndex.build(listings, shared_places().centroids, version or "")
