"""`LiveDirectory`: the directory the helpline reads, an in-memory index that follows the database.

Every lookup is answered from the `DirectoryIndex` this process last loaded; no request waits on the database.
At most every `check_seconds`, the next lookup starts a background thread that reads the loaded data's content
hash (one tiny query) and, only when it changed, reads the listings, builds a new index and swaps it in whole.
If the database is down, the thread fails quietly (logged once a minute) and the last index keeps serving, so
local listings outlive a database outage. Only before the first successful load does a lookup fail
(`DirectoryUnavailable`), which the helpline turns into a reply with the hotlines.

The index is a cache of the database, never a second source of truth: every web process builds its own from
the same rows, so two processes disagree at most for `check_seconds` after a reload. A large directory is built
in a child process (`bot.storage.directory_build`) so that this process never holds the build's peak; a small
one, or one in an in-memory database, in this process.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import pickle
import threading
import time
from collections.abc import Callable, Mapping, Set

from bot.core.directory import County, Nearby, Point, Resource
from bot.core.directory_index import DirectoryIndex
from bot.helpline import FaultLog
from bot.storage.directory_build import build_in_child, can_build_in_child
from bot.storage.directory_repo import SqlDirectory

log = logging.getLogger(__name__)


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc's `malloc_trim`)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to hand back this way


CHILD_BUILD_MIN_SERVICES = 5000
"""Smaller directories are built in place: their peak is a few MB, and a child process costs ~1.5 s to start."""


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
            version, index = self._build_here()
        index.version = version or ""
        self._index = index
        # The index is millions of long-lived objects: left to the cyclic collector, each full collection
        # walks them all (~90 ms for 100,000 services, inside some unlucky request). Frozen, it skips them;
        # unfrozen first, so that whatever the old index leaves behind can still be collected.
        gc.unfreeze()
        release_memory()  # the old index's pages, and the compaction's, go back to the system
        gc.freeze()
        log.info(
            "directory index loaded: %d services (data %s) in %.1f s",
            index.size, (version or "none")[:12], time.perf_counter() - started,
        )
        return True

    def _build_here(self) -> tuple[str | None, DirectoryIndex]:
        version, built = self.source.read_listings(lambda listings: DirectoryIndex.build(listings, self.centroids))
        # Compaction. Streaming 100,000 rows leaves the index's objects scattered among the rows' freed garbage,
        # and memory goes back to the system only in whole pages: the process would keep ~85 MB for a 36 MB
        # index. So the index is written out (pickle, 0.1 s), the scattered original dropped, and read back into
        # the holes; what is left whole is handed back: ~40 MB. (Built in a child, it arrives compact.)
        frozen = pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL)
        del built
        release_memory()
        index: DirectoryIndex = pickle.loads(frozen)
        del frozen
        return version, index

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
