"""`LiveDirectory`: the directory the helpline reads, an in-memory index that follows the database.

Every lookup is answered from the `DirectoryIndex` this process last loaded; no request waits on the database.
At most every `check_seconds`, the next lookup starts a background thread that reads the loaded data's content
hash (one tiny query) and, only when it changed, reads the listings, builds a new index and swaps it in whole.
If the database is down, the thread fails quietly (logged once a minute) and the last index keeps serving, so
local listings outlive a database outage. Only before the first successful load does a lookup fail
(`DirectoryUnavailable`), which the helpline turns into a reply with the hotlines.

The index is a cache of the database, never a second source of truth: every web process builds its own from
the same rows, so two processes disagree at most for `check_seconds` after a reload.

A large directory is built in a short-lived child process (`python -m bot.storage.live_directory`): reading
and indexing the listings needs several times the finished index at the peak (rows, `Listing`s, the build's
lists and sets), and a process keeps much of its peak. The worker tells the child the database and the county
centres on stdin and unpickles the index as the child writes it to stdout, so its own heap only ever holds the
finished index, laid out in one piece; the child's memory goes back to the system when it exits. The pickle
comes from our own child over a pipe, never from a file that anyone else could have written. A small directory,
or one in an in-memory database, is built in this process.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Set
from typing import IO

from sqlalchemy.engine import make_url

from bot.core.directory import County, Nearby, Point, Resource
from bot.core.directory_index import DirectoryIndex
from bot.faults import FaultLog
from bot.storage.db import make_engine, make_session_factory
from bot.storage.listings import SqlDirectory

log = logging.getLogger(__name__)


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc's `malloc_trim`)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to hand back this way


CHILD_BUILD_MIN_SERVICES = 5000
"""Smaller directories are built in place: their peak is small, and starting a child costs more than it saves."""
_MODULE = "bot.storage.live_directory"
_ERROR_LINES = 5
"""How much of a failed child's traceback this process logs: its last lines say what went wrong."""


class DirectoryUnavailable(RuntimeError):
    """No index has been loaded yet (the database was unreachable since this process started)."""


class LiveDirectory:
    """The domain's `Directory` port, answered from memory and refreshed from `source` when the data changes."""

    def __init__(
        self,
        source: SqlDirectory,
        centroids: Mapping[str, Point],
        check_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        database_url: str | None = None,
        child_build_min_services: int = CHILD_BUILD_MIN_SERVICES,
    ) -> None:
        self.source = source
        # Where a child process can read the same data (None: build here).
        self.database_url = database_url if can_build_in_child(database_url) else None
        self.child_build_min_services = child_build_min_services
        self.centroids = centroids
        self.check_seconds = check_seconds
        self.faults = FaultLog()
        self._clock = clock
        self._index: DirectoryIndex | None = None
        self._checked_at = -float("inf")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def index(self) -> DirectoryIndex | None:
        """The index now serving, if one was loaded."""
        return self._index

    def refresh(self) -> bool:
        """Check the data version now and rebuild the index if it changed; True when a new index was swapped in.

        Raises what the database raises; the background check catches and logs it instead.
        """
        current = self._index
        version = self.source.content_hash()
        if current is not None and version == current.version:
            return False
        del current  # the old index keeps serving (from self._index) until the new one is whole
        started = time.perf_counter()
        if self.database_url is not None and self.source.active_services() >= self.child_build_min_services:
            version, index = build_in_child(self.database_url, self.centroids)
        else:
            version, index = self.source.read_listings(lambda ls: DirectoryIndex.build(ls, self.centroids))
        index.version = version or ""
        self._index = index
        # The index is millions of long-lived objects: left to the cyclic collector, each full collection
        # walks them all, a pause that grows with the directory, inside some unlucky request. Frozen, it skips
        # them; unfrozen first, so that whatever the old index leaves behind can still be collected.
        gc.unfreeze()
        release_memory()  # the old index's pages, and the build's, go back to the system
        gc.freeze()
        log.info(
            "directory index loaded: %d services (data %s) in %.1f s",
            index.size, (version or "none")[:12], time.perf_counter() - started,
        )
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background check in progress (tests and tools use this)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- the Directory port ---------------------------------------------------------------------------------

    def services_in_county(self, county: County, category: str) -> list[Resource]:
        """See `DirectoryIndex.services_in_county`."""
        return self._current().services_in_county(county, category)

    def national_services(self, category: str) -> list[Resource]:
        """See `DirectoryIndex.national_services`."""
        return self._current().national_services(category)

    def counties_served(self, category: str) -> Set[str]:
        """See `DirectoryIndex.counties_served`."""
        return self._current().counties_served(category)

    def services_near(
        self, county: County, origin: Point, category: str, radius_miles: float, limit: int
    ) -> Nearby:
        """See `DirectoryIndex.services_near`."""
        return self._current().services_near(county, origin, category, radius_miles, limit)

    def counties_near(self, origin: Point, category: str, radius_miles: float, limit: int) -> list[tuple[str, float]]:
        """See `DirectoryIndex.counties_near`."""
        return self._current().counties_near(origin, category, radius_miles, limit)

    # -- internals ------------------------------------------------------------------------------------------

    def _current(self) -> DirectoryIndex:
        now = self._clock()
        if now - self._checked_at >= self.check_seconds:
            self._start_check(now)
        index = self._index
        if index is None:
            raise DirectoryUnavailable("the directory has not been loaded yet")
        return index

    def _start_check(self, now: float) -> None:
        with self._lock:
            if now - self._checked_at < self.check_seconds or (self._thread and self._thread.is_alive()):
                return
            self._checked_at = now
            self._thread = threading.Thread(target=self._check, name="directory-refresh", daemon=True)
            self._thread.start()

    def _check(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - an outage must leave the last index serving
            self.faults.report("directory refresh", exc)


# -- the build in a child process -------------------------------------------------------------------------


class BuildFailed(RuntimeError):
    """The child process could not build the index (database unreachable, killed...): its errors are in the log."""


def can_build_in_child(database_url: str | None) -> bool:
    """Whether a separate process can reach the same database (not an in-memory SQLite one)."""
    if not database_url:
        return False
    url = make_url(database_url)
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    return url.get_backend_name() != "sqlite" or not in_memory


def build_in_child(
    database_url: str, centroids: Mapping[str, Point], timeout: float = 900.0
) -> tuple[str | None, DirectoryIndex]:
    """(content hash, index) of the active listings in `database_url`, built by a child process.

    Raises `BuildFailed` when the child fails, after logging the end of its traceback through this process's
    logger (not straight onto its stderr). The URL (with any password) goes over stdin, never on a command line
    that `ps` shows.
    """
    request = json.dumps({"database_url": database_url, "centroids": {k: list(v) for k, v in centroids.items()}})
    # The child's stderr goes to a file, not a pipe: a pipe nobody reads while the index streams could fill up.
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
        [sys.executable, "-m", _MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, close_fds=True
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(request.encode())
            child.stdin.close()
            # Read as it comes: the pickle is never whole in this process's memory, only the objects it makes.
            version: str | None = pickle.load(child.stdout)
            index: DirectoryIndex = pickle.load(child.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            child.kill()
            child.wait()
            raise _failed(child.returncode, errors) from exc
        finally:
            child.stdout.close()
        if child.wait(timeout) != 0:
            raise _failed(child.returncode, errors)
    return version, index


def _failed(returncode: int | None, errors: IO[bytes]) -> BuildFailed:
    errors.seek(0)
    tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-_ERROR_LINES:]
    log.error("the directory build process failed (exit %s): %s", returncode, " | ".join(tail) or "no output")
    return BuildFailed(f"the directory build process failed (exit {returncode})")


def main() -> int:
    """The child: read the request on stdin, build, write (version, index) pickled to stdout."""
    request = json.loads(sys.stdin.buffer.read())
    centroids = {k: (float(v[0]), float(v[1])) for k, v in request["centroids"].items()}
    engine = make_engine(request["database_url"])
    try:
        source = SqlDirectory(make_session_factory(engine))
        version, index = source.read_listings(lambda listings: DirectoryIndex.build(listings, centroids))
    finally:
        engine.dispose()
    out = sys.stdout.buffer
    pickle.dump(version, out, protocol=pickle.HIGHEST_PROTOCOL)
    pickle.dump(index, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
