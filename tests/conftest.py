"""Fixtures that several layers share: a real Redis, a real database, the environment a deployed helpline would
have, and an autouse reset. The phone and the caller that play Twilio are in tests/twilio_webhooks.py.

Redis is the server at `REDIS_URL` when set (its database is flushed between tests, so point it at a
spare database number), else an embedded real Redis started here. The database is SQLite in a temporary
folder, or PostgreSQL at `TEST_DATABASE_URL`. Each layer's own fixtures live in its folder's conftest
(tests/web: the app and its clients; tests/jobs: the fake Twilio REST API; tests/admin: the SQL directory;
tests/core: the engine's context from tests/factories.py, with no database at all). SQLAlchemy and the Redis
client are imported inside the fixtures that use them, so tests/core runs without loading either.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from bot.config import PROJECT_ROOT
from tests.twilio_webhooks import ACCOUNT_SID, AUTH_TOKEN

if TYPE_CHECKING:
    import redis


# Read once, before any test runs: the reset below takes REDIS_URL out of the environment tests see.
EXTERNAL_REDIS_URL = os.environ.get("REDIS_URL") or None
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
SETTINGS_VARIABLES = frozenset(
    re.findall(r'env(?:\.get\(|, |\[)"([A-Z][A-Z0-9_]+)"', (PROJECT_ROOT / "bot" / "config.py").read_text())
)
"""Every environment variable `bot.config.load_settings` reads, found where it reads them."""

_HYPOTHESIS_HOME = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its examples and caches in a folder of the run's own, removed at the end, not in the
    checkout (it writes them while collecting, before any fixture could say where)."""
    config.stash[_HYPOTHESIS_HOME] = home = Path(tempfile.mkdtemp(prefix="helpline-hypothesis-"))
    set_hypothesis_home_dir(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run's Hypothesis folder."""
    home = config.stash.get(_HYPOTHESIS_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def reset_shared_state() -> Iterator[None]:
    """Each test starts from the same environment and leaves nothing behind for the next.

    The settings' variables are taken out of the environment (a developer's shell must not change what a
    test sees, and a child process a test starts inherits only what the test gives it), and the environment
    is put back as it was after the test. The jobs' opt-out store cache holds a database pool and a Redis
    client for one test's services: it is emptied. Caches of read-only data (the gazetteer, parsed phrases)
    stay: they cannot change an answer, and rebuilding them would cost seconds per test.
    """
    saved = dict(os.environ)
    for name in SETTINGS_VARIABLES & saved.keys():
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        jobs = sys.modules.get("bot.jobs")
        if jobs is not None:
            jobs._worker_opt_outs.cache_clear()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server for the whole run."""
    if EXTERNAL_REDIS_URL:
        yield EXTERNAL_REDIS_URL
        return
    from bot.storage.redis_server import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real database with the schema and the shipped data loaded once."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    fresh_database(url)
    return url


def fresh_database(url: str) -> None:
    """Empty a PostgreSQL database (SQLite files are new), then migrate it and load the shipped data."""
    from bot.storage.db import init_database, make_engine

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    init_database(engine, PROJECT_ROOT / "data")
    engine.dispose()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the test Redis, its database flushed before and after the test."""
    from bot.storage.redis_server import client_for

    client = client_for(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def make_env(tmp_path: Path, database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """The environment a deployed helpline would have, pointed at the test services."""
    env = {
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "HASH_SECRET": "test-hash-secret",
        "LOG_LEVEL": "INFO",
    }
    env.update(overrides)
    return env


@pytest.fixture
def env(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """`make_env` for this test's instance folder and the shared services."""
    return make_env(tmp_path, database_url, redis_url)
