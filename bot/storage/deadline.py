"""A client-side deadline for database work on a request path: past it, the connection is cut.

A server's statement timeout cannot help when the server never sees the statement (a stalled network or
proxy that accepts bytes and forwards none), and neither psycopg nor sqlite3 has a read timeout. So an engine
built with a deadline arms it when a connection is checked out of its pool and disarms it when the
connection is checked back in (after the pool's rollback): if the work is still running at the deadline, one
watchdog thread shuts the connection's socket down (PostgreSQL) or interrupts it (SQLite). The blocked call
then raises, the pool drops the connection, and the caller degrades.
"""

from __future__ import annotations

import heapq
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


class Watchdog:
    """Runs an abort for each armed key whose deadline passes before it is disarmed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._armed: dict[int, tuple[float, Callable[[], None]]] = {}
        self._heap: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, key: int, abort: Callable[[], None]) -> None:
        deadline = time.monotonic() + self.seconds
        with self._cond:
            self._armed[key] = (deadline, abort)
            heapq.heappush(self._heap, (deadline, key))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self, key: int) -> None:
        with self._cond:
            self._armed.pop(key, None)

    def _run(self) -> None:
        while True:
            due: list[Callable[[], None]] = []
            with self._cond:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    deadline, key = heapq.heappop(self._heap)
                    armed = self._armed.get(key)
                    if armed is not None and armed[0] == deadline:
                        del self._armed[key]
                        due.append(armed[1])
                wait = self._heap[0][0] - now if self._heap else None
                if not due:
                    self._cond.wait(wait)
            for abort in due:
                try:
                    abort()
                except Exception as exc:  # noqa: BLE001 - already closed is fine
                    log.debug("database deadline: could not cut a connection: %s", type(exc).__name__)


def _cut(dbapi_connection: Any) -> None:
    """Make a blocked call on this DBAPI connection return with an error, from another thread."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is not None:  # psycopg: shut the socket down under it
        dup = socket.socket(fileno=os.dup(pgconn.socket))
        try:
            dup.shutdown(socket.SHUT_RDWR)
        finally:
            dup.close()
        return
    interrupt = getattr(dbapi_connection, "interrupt", None)
    if interrupt is not None:  # sqlite3
        interrupt()


def bound_connections(engine: Engine, seconds: float) -> Watchdog:
    """Cut any connection of `engine` held out of its pool for longer than `seconds`."""
    watchdog = Watchdog(seconds)

    @event.listens_for(engine, "checkout")
    def _arm(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        watchdog.arm(id(record), lambda: _cut(dbapi_connection))

    @event.listens_for(engine, "checkin")
    def _disarm(_dbapi_connection: Any, record: Any) -> None:
        watchdog.disarm(id(record))

    @event.listens_for(engine, "invalidate")
    def _dropped(_dbapi_connection: Any, record: Any, _exc: Any) -> None:
        watchdog.disarm(id(record))

    return watchdog
