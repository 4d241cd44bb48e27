"""Hot reload: a running helpline picks up a changed flow or data file, only once it passes every check.

Each web worker owns a `Reloader`. On a request, at most once every `RELOAD_CHECK_SECONDS`, it looks at the
files' stamps (size and modification time) and at a version number in Redis that `helpline reload` (and
SIGHUP to `helpline serve`) increments. When something changed it reloads in a background thread, so no
person's request waits for it:

- Flows: the file is loaded and checked exactly as `helpline flows check` does. If it passes, a new engine
  context replaces `Helpline.context` in one assignment (a request in flight keeps the context it started
  with) and a copy is kept as the last good version under `INSTANCE_DIR/last_good/`, which a worker starting
  later falls back to if the file on disk is broken. If it fails, every problem is logged as `file:line:
  message` and the last good version keeps serving.
- Data: the directory lives in the shared database, so one worker at a time (a Redis lock) checks the files
  and loads exactly the version it checked; the load itself is serialised by the database (an advisory lock
  on PostgreSQL, an immediate transaction on SQLite) and skipped when the content hash is already loaded.
  Other workers see the new hash in the database and only rebuild their context. A rejected version is
  remembered in Redis so it is checked and logged once, not once per worker.

Conversations go on across a reload: sessions are plain state names in Redis. A person whose state vanished
restarts at the menu with the flow's `flow_changed` message; before that, the worker catches up at once (a
newer flow on another worker may have the state).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings, hotlines
from bot.core.directory import Directory
from bot.core.engine import Context
from bot.core.flows import (
    CRISIS_FILE,
    MAIN_FLOW,
    Budget,
    FileRead,
    Flow,
    Problem,
    fall_back,
    make_budget,
    read_crisis,
    read_flow,
    safe_crisis,
    safe_flow,
    served_label,
)
from bot.core.places import Gazetteer
from bot.core.safety import CrisisScreen
from bot.faults import FaultLog
from bot.helpline import Helpline
from bot.storage.data_check import check_data_dir
from bot.storage.data_files import DATA_FILES, content_hash
from bot.storage.db import init_database
from bot.storage.listings import loaded_hash, longest_listings, served_county_names

log = logging.getLogger(__name__)

VERSION_KEY = "hl:reload:version"
DATA_LOCK_KEY = "hl:reload:data-lock"
DATA_REJECTED_KEY = "hl:reload:data-rejected"
DATA_LOCK_SECONDS = 600
CATCH_UP_INTERVAL_SECONDS = 1.0

Stamp = tuple[tuple[str, int, int], ...]


def file_stamp(paths: list[Path]) -> Stamp:
    """Size and modification time of each file (cheap: no reading), -1 for a missing one."""
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((str(path), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(path), -1, -1))
    return tuple(out)


@dataclass
class Status:
    """What this worker serves and what it last refused (for logs, tests and /healthz-style probes)."""

    flow_hash: str | None = None
    flow_source: str | None = None
    data_hash: str | None = None
    reloads: int = 0
    rejected: list[str] = field(default_factory=list)


class Reloader:
    """Watches the flow and data files for one worker and swaps in what passes the checks."""

    def __init__(
        self,
        settings: Settings,
        db_engine: Engine,
        db_sessions: sessionmaker[Session],
        redis_client: redis.Redis,
        directory: Directory,
        places: Gazetteer,
        contexts: Callable[[Flow, CrisisScreen | None], Context],
    ):
        """`contexts` builds the engine's context for a flow that passed, on `directory` and `places`."""
        self.settings = settings
        self.places = places
        self.contexts = contexts
        self.helpline: Helpline | None = None
        self.context: Context | None = None
        self.db_engine = db_engine
        self.db_sessions = db_sessions
        self.redis = redis_client
        self.directory = directory
        self.faults = FaultLog()
        self.flow_path = settings.flows_dir / MAIN_FLOW
        self.crisis_path = settings.flows_dir / CRISIS_FILE
        self.data_paths = [settings.data_dir / name for name in DATA_FILES]
        self.last_good = settings.instance_dir / "last_good" / MAIN_FLOW
        self.last_good_crisis = settings.instance_dir / "last_good" / CRISIS_FILE
        self.status = Status()
        self._lock = threading.Lock()
        self._next_poll = 0.0
        self._next_catch_up = 0.0
        self._flow_stamp: Stamp = ()
        self._data_stamp: Stamp = ()
        self._version: int | None = None
        self._rejected_flow: str | None = None
        self._rejected_data: str | None = None
        self._budget: Budget | None = None
        self._flow: Flow | None = None
        self._crisis: CrisisScreen | None = None
        self._crisis_hash: str | None = None

    def attach(self, helpline: Helpline) -> None:
        """The helpline whose context this reloader replaces."""
        self.helpline = helpline
        if self.context is not None:
            helpline.context = self.context

    # -- starting -------------------------------------------------------------------------------------------

    def start(self) -> Context:
        """The context to serve at start: each file if it passes, else its last good copy, else the built-in one."""
        self._version = self._read_version()
        self.status.data_hash = self._loaded_hash()
        self._flow_stamp = file_stamp([self.flow_path, self.crisis_path])
        self._data_stamp = file_stamp(self.data_paths)
        try:
            if content_hash(self.settings.data_dir) != self.status.data_hash:
                self._data_stamp = ()  # the files changed while nothing was running: the first poll loads them
        except Exception:  # noqa: BLE001 - unreadable files are reported by that first poll
            self._data_stamp = ()
        crisis = read_crisis(self.crisis_path)
        if not crisis.ok:
            self._log_rejection(self.crisis_path, crisis.problems)
        crisis, passed = fall_back(crisis, self.last_good_crisis, read_crisis, safe_crisis, "crisis phrases")
        if passed:
            self._keep(self.last_good_crisis, crisis.raw)
        self._crisis, self._crisis_hash = crisis.value, crisis.digest
        read = self._load_checked(self.flow_path)
        if not read.ok:
            self._log_rejection(self.flow_path, read.problems)
            self._rejected_flow = read.digest
        chosen, passed = fall_back(read, self.last_good, self._load_checked, safe_flow, "flow")
        self._serve(chosen, keep=passed)
        assert self.context is not None
        return self.context

    # -- per request ------------------------------------------------------------------------------------------

    def poll(self) -> None:
        """Called on each request: at most once per interval, look for a change and reload in the background."""
        interval = self.settings.reload_check_seconds
        now = time.monotonic()
        if interval <= 0 or now < self._next_poll:
            return
        self._next_poll = now + interval
        if not self._changed():
            return
        if not self._lock.acquire(blocking=False):
            return  # a reload is already running in this worker
        threading.Thread(target=self._reload_locked, name="helpline-reload", daemon=True).start()

    def catch_up(self) -> None:
        """Reload now, in this request, when a conversation is in a state this worker does not know."""
        now = time.monotonic()
        if now < self._next_catch_up:
            return
        self._next_catch_up = now + CATCH_UP_INTERVAL_SECONDS
        if self._changed():
            self.reload_now()

    def reload_now(self) -> None:
        """Look at the files and the reload version and apply what changed and passes (synchronously)."""
        with self._lock:
            self._reload()

    # -- the work -----------------------------------------------------------------------------------------

    def _reload_locked(self) -> None:
        try:
            self._reload()
        except Exception as exc:  # noqa: BLE001 - a failed reload keeps the last good version serving
            log.error("reload failed: %s: %s", type(exc).__name__, exc)
        finally:
            self._lock.release()

    def _changed(self) -> bool:
        version = self._read_version()
        if version is not None and version != self._version:
            return True
        if not self.settings.reload_watch_files:
            return False
        flows = file_stamp([self.flow_path, self.crisis_path])
        return flows != self._flow_stamp or file_stamp(self.data_paths) != self._data_stamp

    def _reload(self) -> None:
        version = self._read_version()
        forced = version is not None and version != self._version
        watch = self.settings.reload_watch_files or forced
        data_changed = self._reload_data() if watch else False
        if data_changed:
            # The directory a worker serves is an in-memory index of the database: bring it up to date now,
            # before the new context is built on it, rather than at its next periodic check.
            refresh = getattr(self.directory, "refresh", None)
            if refresh is not None:
                try:
                    refresh()
                except Exception as exc:  # noqa: BLE001 - the last index keeps serving
                    self.faults.report("directory refresh", exc)
        flow_stamp = file_stamp([self.flow_path, self.crisis_path])
        if watch and (forced or data_changed or flow_stamp != self._flow_stamp):
            self._reload_flow(force=forced or data_changed)
            self._flow_stamp = flow_stamp
        self._version = version

    def _reload_flow(self, force: bool) -> None:
        crisis = read_crisis(self.crisis_path)
        if crisis.value is None:
            if crisis.digest is None or crisis.digest != self._rejected_flow:
                self._log_rejection(self.crisis_path, crisis.problems)
            self._rejected_flow = crisis.digest
            return
        read = self._load_checked(self.flow_path)
        unchanged = read.digest == self.status.flow_hash and crisis.digest == self._crisis_hash
        if not force and read.digest is not None and (unchanged or read.digest == self._rejected_flow):
            return
        if not read.ok:
            if read.digest is None or read.digest != self._rejected_flow:
                self._log_rejection(self.flow_path, read.problems)
            self._rejected_flow = read.digest
            return
        if not unchanged:
            log.info(
                "flows reloaded: %s (%s), %s (%s)",
                self.flow_path.name,
                (read.digest or "")[:12],
                self.crisis_path.name,
                (crisis.digest or "")[:12],
            )
        self._crisis, self._crisis_hash = crisis.value, crisis.digest
        self._keep(self.last_good_crisis, crisis.raw)
        self._serve(read, keep=True)

    def _reload_data(self) -> bool:
        """Bring the shared directory up to date with the files; True when what this worker serves changed."""
        stamp = file_stamp(self.data_paths)
        if stamp == self._data_stamp and self.status.data_hash == self._loaded_hash():
            return False
        try:
            files_hash = content_hash(self.settings.data_dir)
        except Exception as exc:  # noqa: BLE001 - a missing file is a rejection like any other
            self._reject_data(None, [str(exc)])
            return False
        db_hash = self._loaded_hash()
        if files_hash == db_hash:
            self._data_stamp = stamp
            changed = db_hash != self.status.data_hash
            self.status.data_hash = db_hash
            self._budget = None
            return changed
        if files_hash == self._rejected_data or self._redis_get(DATA_REJECTED_KEY) == files_hash:
            self._rejected_data = files_hash
            return False
        token = uuid.uuid4().hex
        if not self._take_data_lock(token):
            return False  # another worker is loading it; its hash will show in the database
        try:
            report = check_data_dir(self.settings.data_dir, self.settings, places=self.places)
            if not report.ok or report.dataset is None:
                self._reject_data(files_hash, [str(f) for f in report.errors])
                return False
            result = init_database(self.db_engine, self.settings.data_dir, dataset=report.dataset)
            log.info("data reloaded: %s services (%s)", result.services, result.content_hash[:12])
            self._data_stamp = stamp
            self.status.data_hash = result.content_hash
            self._budget = None
            return True
        finally:
            self._release_data_lock(token)

    def _reject_data(self, files_hash: str | None, problems: list[str]) -> None:
        log.error(
            "rejected the data in %s: %d problem(s); the last good directory keeps serving",
            self.settings.data_dir,
            len(problems),
        )
        for problem in problems:
            log.error("  %s", problem)
        self.status.rejected.extend(problems)
        if files_hash is not None:
            self._rejected_data = files_hash
            self._redis_set(DATA_REJECTED_KEY, files_hash)

    def _load_checked(self, path: Path) -> FileRead[Flow]:
        """The flow file checked against the directory this worker serves."""
        return read_flow(path, self._current_budget(), self._categories())

    def _serve(self, read: FileRead[Flow], keep: bool) -> None:
        assert read.value is not None
        self._flow = read.value
        self.context = self.contexts(read.value, self._crisis)
        if self.helpline is not None:
            self.helpline.context = self.context
        self.status.flow_hash = read.digest
        self.status.flow_source = read.value.source
        self.status.reloads += 1
        if keep:
            self._keep(self.last_good, read.raw)

    def _keep(self, path: Path, raw: bytes) -> None:
        """Keep a copy of the very bytes that passed (not the file as it is now), atomically."""
        if not raw:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(raw)
            os.replace(tmp, path)  # another worker never reads half a file
        except OSError as exc:
            log.warning("could not keep the last good copy in %s: %s", path, exc)

    def _log_rejection(self, path: Path, problems: list[Problem]) -> None:
        log.error("rejected %s: %d problem(s); the last good version keeps serving", path, len(problems))
        for problem in problems:
            log.error("  %s", problem)
        self.status.rejected.extend(str(p) for p in problems)

    def _current_budget(self) -> Budget:
        if self._budget is None:
            try:
                listings = longest_listings(self.db_sessions)
                counties = served_county_names(self.db_sessions)
                served = [served_label(self.places, state, name) for state, name in counties]
            except Exception as exc:  # noqa: BLE001 - without the database, measure without listings
                self.faults.report("reading listings for the flow check", exc)
                listings, served = [], []
            h = hotlines(self.settings)
            self._budget = make_budget(h, self.settings.sms_segment_budget, listings, served, self.places)
        return self._budget

    def _categories(self) -> set[str] | None:
        from sqlalchemy import select

        from bot.storage.models import TaxonomyTerm

        try:
            with self.db_sessions() as session:
                # An empty directory (nothing loaded yet) says nothing about which topics exist.
                return set(session.scalars(select(TaxonomyTerm.code))) or None
        except Exception as exc:  # noqa: BLE001
            self.faults.report("reading categories for the flow check", exc)
            return None

    def _loaded_hash(self) -> str | None:
        try:
            return loaded_hash(self.db_sessions)
        except Exception as exc:  # noqa: BLE001
            self.faults.report("reading the loaded data version", exc)
            return self.status.data_hash

    # -- Redis, never fatal ---------------------------------------------------------------------------------

    def _read_version(self) -> int | None:
        raw = self._redis_get(VERSION_KEY)
        try:
            return int(raw) if raw is not None else 0
        except ValueError:
            return 0

    def _redis_get(self, key: str) -> str | None:
        try:
            raw = self.redis.get(key)
        except Exception as exc:  # noqa: BLE001
            self.faults.report("reading the reload version", exc)
            return None
        return raw.decode() if isinstance(raw, bytes) else raw

    def _redis_set(self, key: str, value: str) -> None:
        try:
            self.redis.set(key, value, ex=7 * 24 * 3600)
        except Exception as exc:  # noqa: BLE001
            self.faults.report("recording a rejected data version", exc)

    def _take_data_lock(self, token: str) -> bool:
        try:
            return bool(self.redis.set(DATA_LOCK_KEY, token, nx=True, ex=DATA_LOCK_SECONDS))
        except Exception as exc:  # noqa: BLE001 - without Redis the database lock still serialises loads
            self.faults.report("taking the data reload lock", exc)
            return True

    def _release_data_lock(self, token: str) -> None:
        try:
            if self._redis_get(DATA_LOCK_KEY) == token:
                self.redis.delete(DATA_LOCK_KEY)
        except Exception as exc:  # noqa: BLE001
            self.faults.report("releasing the data reload lock", exc)
