"""Fixtures for the storage tests: a real database per test and a private copy of the data folder.

Every test runs against a SQLite file; when TEST_DATABASE_URL is set (e.g.
`postgresql+psycopg://postgres@127.0.0.1:5432/test`) it also runs against PostgreSQL, in a schema of its own
that is dropped and recreated for each test. The `public` schema is left to the session-wide fixtures in
tests/conftest.py, which load it once for the whole run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.storage.db import make_engine

SHIPPED_DATA = Path(__file__).resolve().parents[2] / "data"

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


PG_SCHEMA = "helpline_storage_test"


def _fresh_postgres(url: str) -> Engine:
    parsed = make_url(url)
    if "test" not in (parsed.database or ""):
        pytest.fail(
            f"TEST_DATABASE_URL must name a throwaway database with 'test' in its name, got {parsed.database!r}"
        )
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {PG_SCHEMA}")
    admin.dispose()
    scoped = parsed.update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
    return make_engine(scoped.render_as_string(hide_password=False))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a SQLite file under tmp_path, or the PostgreSQL test database with a fresh schema."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'helpline.sqlite3'}")
    else:
        engine = _fresh_postgres(os.environ["TEST_DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the shipped data folder that a test may edit."""
    target = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA, target)
    return target
