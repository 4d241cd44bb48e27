"""Opt-outs kept in the database (the record of consent), with a full copy in Redis that answers texts quickly.

Redis holds "1" under the keyed hash of each opted-out number (no expiry: it also answers while the database
is down), "0" for ten minutes under a number that opted back in (so that a rebuild that read the database
before the START cannot write the STOP back), and a marker, `<prefix>:optouts-complete`, saying the copy holds
every opt-out in the database. With the marker, a missing entry means "not opted out" and a text needs no
database query at all; without it (a new or flushed Redis, or the marker expired) texts ask the database and
one process rebuilds the copy.

Changes go to the database first, then to Redis, so the copy is never ahead of the record. The marker
expires every `sync_seconds` and the copy is rebuilt: if Redis was unreachable when a STOP was taken, and
comes back with its old data, texts can miss that STOP for at most that long. Texts we send (the lists)
always ask the database (`is_opted_out`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

import redis
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.storage.models import OptOut

log = logging.getLogger(__name__)

OPTED_OUT = b"1"
OPTED_BACK_IN = b"0"
SYNC_BATCH = 1000
SYNC_RETRY_SECONDS = 5.0
SYNC_LOCK_SECONDS = 300
OPTED_BACK_IN_SECONDS = 2 * SYNC_LOCK_SECONDS
"""How long a START is remembered in the copy: longer than any rebuild can run (its lock's lifetime), so a
rebuild that read the database before the START cannot write the old STOP back."""
# Both scripts act only while the rebuild still holds its lock (KEYS[1] == ARGV[1]).
_COPY_BATCH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do redis.call('SET', KEYS[i], '1', 'NX') end
return 1
"""
_MARK_COMPLETE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
return 1
"""
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0"


class OptOutStore:
    """Who asked for no more messages, by keyed hash of their number."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        mirror: redis.Redis | None = None,
        prefix: str = "hl",
        sync_seconds: int = 900,
    ):
        self.session_factory = session_factory
        self.mirror = mirror
        self.prefix = prefix
        self.sync_seconds = sync_seconds
        self.complete_key = f"{prefix}:optouts-complete"
        self._sync_lock_key = f"{prefix}:optouts-syncing"
        self._sync_thread: threading.Thread | None = None
        self._sync_not_before = 0.0

    def mirror_key(self, person: str) -> str:
        """The Redis key of this person's entry (pipelines that batch the read use it with `complete_key`)."""
        return f"{self.prefix}:optout:{person}"

    @staticmethod
    def from_mirror(entry: bytes | None, complete: bytes | None) -> bool | None:
        """What the copy says: opted out, not, or None for "ask the database" (the copy is not complete)."""
        if entry == OPTED_OUT:
            return True
        if entry == OPTED_BACK_IN:
            return False
        return False if complete is not None else None

    def is_opted_out(self, person: str) -> bool:
        """True when this person said STOP and has not said START since; the database decides."""
        try:
            with self.session_factory() as session:
                return session.get(OptOut, person) is not None
        except SQLAlchemyError:
            if self.mirror is None:
                raise
            log.warning("opt-out check fell back to the Redis copy (database unavailable)")
            return self.mirror.get(self.mirror_key(person)) == OPTED_OUT

    def opt_out(self, person: str, keyword: str) -> None:
        """Record a STOP (idempotent: the first keyword and time are kept)."""
        with self.session_factory() as session, session.begin():
            if session.get(OptOut, person) is None:
                session.add(OptOut(person=person, keyword=keyword[:32]))
        self._copy(lambda r: r.set(self.mirror_key(person), OPTED_OUT))

    def opt_in(self, person: str) -> None:
        """Forget a STOP after START, UNSTOP or YES."""
        with self.session_factory() as session, session.begin():
            session.execute(delete(OptOut).where(OptOut.person == person))
        self._copy(lambda r: r.set(self.mirror_key(person), OPTED_BACK_IN, ex=OPTED_BACK_IN_SECONDS))

    def _copy(self, change: Callable[[redis.Redis], object]) -> None:
        if self.mirror is None:
            return
        try:
            change(self.mirror)
        except redis.RedisError:
            log.warning("could not copy an opt-out change to Redis (the next rebuild of the copy will)")

    def sync(self) -> bool:
        """Copy every opt-out in the database to Redis, then mark the copy complete; False if another
        process is already doing it."""
        if self.mirror is None:
            return False
        token = uuid.uuid4().hex
        if not self.mirror.set(self._sync_lock_key, token, nx=True, ex=SYNC_LOCK_SECONDS):
            return False
        try:
            copied = 0
            with self.session_factory() as session:
                batch: list[str] = []
                for person in session.scalars(select(OptOut.person).execution_options(yield_per=SYNC_BATCH)):
                    batch.append(self.mirror_key(person))
                    if len(batch) == SYNC_BATCH and not self._copy_batch(token, batch):
                        return _lock_lost()
                    copied += 1
                if not self._copy_batch(token, batch):
                    return _lock_lost()
            # Only if Redis still holds our lock: a flush or restart meanwhile may have erased entries we wrote.
            keys = (self._sync_lock_key, self.complete_key)
            if not self.mirror.eval(_MARK_COMPLETE, 2, *keys, token, self.sync_seconds):
                return _lock_lost()
            log.info("opt-out copy in Redis rebuilt: %d opted-out numbers", copied)
            return True
        finally:
            self.mirror.eval(_UNLOCK, 1, self._sync_lock_key, token)

    def _copy_batch(self, token: str, keys: list[str]) -> bool:
        """Write "opted out" for `keys`, none over an entry already there (a START since our read keeps its
        "opted back in"); False, writing nothing, if our lock is gone. Empties `keys`."""
        assert self.mirror is not None
        done = bool(self.mirror.eval(_COPY_BATCH, 1 + len(keys), self._sync_lock_key, *keys, token))
        keys.clear()
        return done

    def sync_in_background(self) -> None:
        """Start `sync` on a thread; after a failure, not again for a few seconds. Failures are logged, not raised."""
        now = time.monotonic()
        if now < self._sync_not_before:
            return
        self._sync_not_before = now + SYNC_RETRY_SECONDS

        def run() -> None:
            try:
                if self.sync():
                    self._sync_not_before = 0.0
            except Exception as exc:  # noqa: BLE001 - texts keep asking the database meanwhile
                log.warning("could not rebuild the opt-out copy in Redis: %s", type(exc).__name__)

        self._sync_thread = threading.Thread(target=run, name="opt-out-sync", daemon=True)
        self._sync_thread.start()

    def wait_for_sync(self, timeout: float | None = None) -> None:
        """Wait for a background `sync` in progress (tests and tools use this)."""
        thread = self._sync_thread
        if thread is not None:
            thread.join(timeout)


def _lock_lost() -> bool:
    """Log why a rebuild stopped (the copy is left unmarked, so texts keep asking the database); False."""
    log.warning("opt-out copy not rebuilt: the rebuild's lock expired or Redis lost it")
    return False
