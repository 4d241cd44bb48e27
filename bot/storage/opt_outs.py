"""Consent (STOP and START) kept in two stores that each answer alone: the database and a full copy in Redis.

Every change carries a version: the time, in microseconds, at which its word was read. Whichever store
holds the higher version for a number holds the truth for it (the order of truth, docs/operations.md):

1. a change this process took and could not yet write anywhere (kept in memory and retried);
2. else the newer of the database's record (`consent`) and Redis' entry (`<prefix>:optout:<hash>`,
   "1:<version>" opted out, "0:<version>" opted back in);
3. with neither answering and nothing in memory, the number is answered (an unanswered person in crisis
   is worse than one unwanted reply).

A change goes to the database first, then to Redis. If Redis is away, the database row says `mirrored =
False`; if the database is away, Redis' entry is kept with no expiry and its number is put in the pending
set (`<prefix>:optouts-pending`); if both are, the change waits in this process. The process that took it
retries every `RETRY_SECONDS` until both stores hold it; any process that sees the pending set non-empty
(it is read with every text) replays it into the database; every process copies the `mirrored = False`
rows to Redis when Redis first answers it (at start and after an outage); a rebuild of the copy (when Redis
comes back empty, and every `sync_seconds`) replays both ways. Writes never go backwards: a store keeps an entry whose
version is higher than the one offered.

The copy is marked complete (`<prefix>:optouts-complete`) by a rebuild that made it agree with the
database: entries the database holds are written, and entries it no longer holds are removed, except those
changed since the rebuild began or still pending (taken while the database was away). With the marker, a
missing entry means "not opted out" and a text needs no database query at all.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import redis
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.faults import FaultLog
from bot.storage.models import ConsentRecord, OptOut

log = logging.getLogger(__name__)

SYNC_BATCH = 1000
SYNC_RETRY_SECONDS = 5.0
SYNC_LOCK_SECONDS = 300
RETRY_SECONDS = 1.0
"""How often a change that a store could not take is offered to it again (and the pending set replayed)."""
OPTED_BACK_IN_SECONDS = 2 * SYNC_LOCK_SECONDS
"""How long a START stays in the copy once the database has it too (until then it never expires)."""
DATABASE_REST_SECONDS = 5.0
"""After the database failed a request-path call, texts leave it alone this long (the retry thread does not):
an outage costs one text a bounded wait, not every text."""
CHANGED_SINCE_MARGIN_US = 5_000_000
"""A rebuild removes no entry changed less than this before it began: clocks of two hosts may differ."""

# KEYS: the entry, the pending set. ARGV: state ("1"/"0"), version, pending ("1"/"0"), person, START's ttl.
# Writes only over an older version; a newer one is left as it is (and answers 1 too: the copy is current).
_COPY_CHANGE = """
local cur = redis.call('GET', KEYS[1])
local v = tonumber(ARGV[2])
if cur then
  local cv = tonumber(string.match(cur, '^%d:(%d+)$') or '0')
  if cv > v then return 1 end
end
local value = ARGV[1] .. ':' .. ARGV[2]
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], value)
  redis.call('SADD', KEYS[2], ARGV[4])
else
  if ARGV[1] == '0' then
    redis.call('SET', KEYS[1], value, 'EX', ARGV[5])
  else
    redis.call('SET', KEYS[1], value)
  end
  redis.call('SREM', KEYS[2], ARGV[4])
end
return 1
"""
# KEYS: the entry, the pending set. ARGV: the value replayed into the database, person, START's ttl.
# The number leaves the pending set only if its entry is still the change that was replayed.
_SETTLE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SREM', KEYS[2], ARGV[2])
if string.sub(ARGV[1], 1, 1) == '0' then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1
"""
# The rebuild's scripts act only while it still holds its lock (KEYS[1] == ARGV[1]).
# KEYS: lock, then entries; ARGV: token, START's ttl, then state and version per entry.
_COPY_BATCH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
  local state, v = ARGV[2 * i - 1], tonumber(ARGV[2 * i])
  local cur = redis.call('GET', KEYS[i])
  local cv = -1
  if cur then cv = tonumber(string.match(cur, '^%d:(%d+)$') or '0') end
  if cv <= v then
    if state == '1' then
      redis.call('SET', KEYS[i], '1:' .. ARGV[2 * i])
    elseif cur then
      redis.call('SET', KEYS[i], '0:' .. ARGV[2 * i], 'EX', ARGV[2])
    end
  end
end
return 1
"""
# KEYS: lock, pending set, then entries; ARGV: token, cutoff version, then the person of each entry.
# Removes "opted out" entries the database does not hold, unless newer than the cutoff or pending.
_REMOVE_STALE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local cutoff = tonumber(ARGV[2])
for i = 3, #KEYS do
  local cur = redis.call('GET', KEYS[i])
  if cur and string.sub(cur, 1, 1) == '1' and redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then
    local cv = tonumber(string.match(cur, '^%d:(%d+)$') or '0')
    if cv < cutoff then redis.call('DEL', KEYS[i]) end
  end
end
return 1
"""
_MARK_COMPLETE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
return 1
"""
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0"


def now_version() -> int:
    """A change's version: the time in microseconds (exact in Redis' Lua numbers, unlike nanoseconds)."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Change:
    """One STOP (`opted_out`) or START, with the version that orders it against every other change."""

    person: str
    opted_out: bool
    version: int
    keyword: str = ""


@dataclass(frozen=True)
class Taken:
    """Where a change landed when it was made: the database, Redis' copy, both or (kept in memory) neither."""

    database: bool
    copy: bool


class ConsentUnknown(RuntimeError):
    """Neither store answered and this process took no change for the number: its consent is not known."""


def parse_entry(entry: bytes | str | None) -> tuple[bool, int] | None:
    """A copy entry as (opted out, version); entries without a version are older than any change."""
    if entry is None:
        return None
    raw = entry.decode() if isinstance(entry, bytes) else entry
    state, _, version = raw.partition(":")
    return state == "1", int(version) if version.isdigit() else 0


@dataclass
class _Unsettled:
    """A change not yet in both stores, kept by the process that took it."""

    change: Change
    database: bool
    copy: bool


class OptOutStore:
    """Who asked for no more messages, by keyed hash of their number."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        mirror: redis.Redis | None = None,
        prefix: str = "hl",
        sync_seconds: int = 900,
        faults: FaultLog | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ):
        self.session_factory = session_factory
        self.mirror = mirror
        self.prefix = prefix
        self.sync_seconds = sync_seconds
        self.faults = faults if faults is not None else FaultLog()
        self.retry_seconds = retry_seconds
        self.complete_key = f"{prefix}:optouts-complete"
        self.pending_key = f"{prefix}:optouts-pending"
        self._sync_lock_key = f"{prefix}:optouts-syncing"
        self._sync_thread: threading.Thread | None = None
        self._sync_not_before = 0.0
        self._replay_not_before = 0.0
        self._unsettled: dict[str, _Unsettled] = {}
        self._lock = threading.Lock()
        self._retry_thread: threading.Thread | None = None
        self._database_rests_until = 0.0

    def mirror_key(self, person: str) -> str:
        """The Redis key of this person's entry (pipelines that batch the read use it with `complete_key`)."""
        return f"{self.prefix}:optout:{person}"

    @staticmethod
    def from_mirror(entry: bytes | None, complete: bytes | None) -> bool | None:
        """What the copy says: opted out, not, or None for "ask the database" (the copy is not complete)."""
        parsed = parse_entry(entry)
        if parsed is not None:
            return parsed[0]
        return False if complete is not None else None

    # -- reading ---------------------------------------------------------------------------------------------

    def held(self, person: str) -> bool | None:
        """The state of a change this process took that a store has not taken yet (it outranks what the
        copy says: the copy may be the store that lacks it), or None."""
        with self._lock:
            unsettled = self._unsettled.get(person)
        return unsettled.change.opted_out if unsettled is not None else None

    def is_opted_out(self, person: str) -> bool:
        """True when this person's newest change, in whichever store holds it, is a STOP.

        Raises `ConsentUnknown` when neither store answers and this process holds no change for them.
        """
        known: list[tuple[bool, int]] = []
        with self._lock:
            unsettled = self._unsettled.get(person)
        if unsettled is not None:
            known.append((unsettled.change.opted_out, unsettled.change.version))
        record = self._read_record(person)
        if record is not None:
            known.append(record)
        copy_answered = False
        if self.mirror is not None:
            try:
                copy = parse_entry(self.mirror.get(self.mirror_key(person)))
                copy_answered = True
            except redis.RedisError as exc:
                self.faults.report("reading the opt-out copy in Redis", exc)
            else:
                if copy is not None:
                    known.append(copy)
        if record is None and not copy_answered and unsettled is None:
            raise ConsentUnknown("neither the database nor Redis answered")
        return max(known, key=lambda pair: pair[1])[0] if known else False

    def _read_record(self, person: str) -> tuple[bool, int] | None:
        """The database's (opted out, version), (False, -1) when it holds nothing; None when it is away."""
        if self._resting():
            return None
        try:
            with self.session_factory() as session:
                record = session.get(ConsentRecord, person)
                if record is not None:
                    return record.opted_out, record.version
                # A STOP kept before versions (no record) is older than any change.
                return (True, 0) if session.get(OptOut, person) is not None else (False, -1)
        except Exception as exc:  # noqa: BLE001 - any database fault: the copy answers
            self._rest()
            self.faults.report("opt-out check in the database (the Redis copy answers)", exc)
            return None

    def _resting(self) -> bool:
        return time.monotonic() < self._database_rests_until

    def _rest(self) -> None:
        self._database_rests_until = time.monotonic() + DATABASE_REST_SECONDS

    # -- changing --------------------------------------------------------------------------------------------

    def opt_out(self, person: str, keyword: str) -> Taken:
        """Record a STOP now, in whichever stores answer (the first keyword and time are kept); never raises."""
        return self.change(Change(person, True, now_version(), keyword[:32]))

    def opt_in(self, person: str) -> Taken:
        """Record a START, UNSTOP or YES now, in whichever stores answer; never raises."""
        return self.change(Change(person, False, now_version()))

    def change(self, change: Change) -> Taken:
        """Write a change to the database, then to Redis; what either could not take is retried until it does."""
        database = self._write_record(change, mirrored=True)
        copy = self._write_copy(change, pending=not database)
        if database and not copy and self.mirror is not None:
            self._write_record(change, mirrored=False)  # so a rebuild tells the copy if this process cannot
        if not (database and copy):
            with self._lock:
                self._unsettled[change.person] = _Unsettled(change, database, copy)
            self._start_retrying()
        return Taken(database, copy)

    def _write_record(self, change: Change, mirrored: bool, retrying: bool = False) -> bool:
        """Put `change` in the database unless it holds a newer one; True when it holds this or a newer one.

        A text's change (not `retrying`) is not offered to a database that just failed: the retry thread
        offers it, every `retry_seconds`, and the first success ends the rest for every text."""
        if not retrying and self._resting():
            return False
        try:
            with self.session_factory() as session, session.begin():
                record = session.get(ConsentRecord, change.person, with_for_update=True)
                if record is not None and record.version > change.version:
                    return True
                if record is None:
                    session.add(ConsentRecord(person=change.person, opted_out=change.opted_out,
                                              version=change.version, mirrored=mirrored))
                else:
                    record.opted_out, record.version, record.mirrored = change.opted_out, change.version, mirrored
                if not change.opted_out:
                    session.execute(delete(OptOut).where(OptOut.person == change.person))
                elif session.get(OptOut, change.person) is None:
                    session.add(OptOut(person=change.person, keyword=change.keyword or "stop"))
        except IntegrityError as exc:  # another process wrote this person's first record at the same time
            self.faults.report("writing a consent change to the database", exc)
            return False
        except Exception as exc:  # noqa: BLE001 - any database fault: the copy holds it meanwhile
            self._rest()
            self.faults.report("writing a consent change to the database", exc)
            return False
        self._database_rests_until = 0.0
        return True

    def _write_copy(self, change: Change, pending: bool) -> bool:
        """Put `change` in Redis unless it holds a newer one; `pending`: the database does not have it yet."""
        if self.mirror is None:
            return True
        try:
            self.mirror.eval(
                _COPY_CHANGE, 2, self.mirror_key(change.person), self.pending_key,
                "1" if change.opted_out else "0", change.version, "1" if pending else "0", change.person,
                OPTED_BACK_IN_SECONDS,
            )
            return True
        except redis.RedisError as exc:
            self.faults.report("copying an opt-out change to Redis", exc)
            return False

    # -- catching up -----------------------------------------------------------------------------------------

    def unsettled(self) -> int:
        """How many changes this process holds that a store has not taken yet."""
        with self._lock:
            return len(self._unsettled)

    def _start_retrying(self) -> None:
        with self._lock:
            if self._retry_thread is not None:
                return
            self._retry_thread = threading.Thread(target=self._retry_loop, name="consent-retry", daemon=True)
            self._retry_thread.start()

    def _retry_loop(self) -> None:
        while True:
            time.sleep(self.retry_seconds)
            self.settle_once()
            with self._lock:
                if not self._unsettled:
                    self._retry_thread = None
                    return

    def settle_once(self) -> bool:
        """Offer every change this process holds to the stores that lack it; True when none is left."""
        with self._lock:
            items = list(self._unsettled.values())
        for item in items:
            change = item.change
            if not item.database:
                item.database = self._write_record(change, mirrored=item.copy, retrying=True)
            if item.database and not item.copy:
                item.copy = self._write_copy(change, pending=False)
                if item.copy:
                    self._mark_mirrored(change)
            elif item.database and item.copy:
                self._settle_entry(change)
            if item.database and item.copy:
                with self._lock:
                    if self._unsettled.get(change.person) is item:
                        del self._unsettled[change.person]
        if items:
            self.replay_pending()
        with self._lock:
            return not self._unsettled

    def _mark_mirrored(self, change: Change) -> None:
        try:
            with self.session_factory() as session, session.begin():
                session.execute(
                    update(ConsentRecord)
                    .where(ConsentRecord.person == change.person, ConsentRecord.version == change.version)
                    .values(mirrored=True)
                )
        except Exception as exc:  # noqa: BLE001 - the next rebuild copies it again, harmlessly
            self.faults.report("marking a consent change copied", exc)

    def _settle_entry(self, change: Change) -> None:
        """The database now holds a change Redis kept as pending: take it out of the pending set."""
        if self.mirror is None:
            return
        value = f"{'1' if change.opted_out else '0'}:{change.version}"
        try:
            self.mirror.eval(_SETTLE, 2, self.mirror_key(change.person), self.pending_key, value, change.person,
                             OPTED_BACK_IN_SECONDS)
        except redis.RedisError as exc:
            self.faults.report("settling a consent change in Redis", exc)

    def replay_pending(self) -> int:
        """Write the changes Redis took while the database was away into the database; how many it took."""
        if self.mirror is None:
            return 0
        done = 0
        try:
            for raw in self.mirror.sscan_iter(self.pending_key, count=SYNC_BATCH):
                person = raw.decode() if isinstance(raw, bytes) else raw
                entry = self.mirror.get(self.mirror_key(person))
                parsed = parse_entry(entry)
                if parsed is None:
                    self.mirror.srem(self.pending_key, person)
                    continue
                change = Change(person, parsed[0], parsed[1])
                if not self._write_record(change, mirrored=True, retrying=True):
                    break  # the database is still away: the pending set keeps it
                self._settle_entry(change)
                done += 1
        except redis.RedisError as exc:
            self.faults.report("replaying consent changes from Redis", exc)
        if done:
            log.info("replayed %d consent changes from Redis into the database", done)
        return done

    def replay_in_background(self) -> None:
        """`replay_pending` on a thread, at most once every `retry_seconds` (texts call this when the pending
        set is not empty)."""
        now = time.monotonic()
        if now < self._replay_not_before:
            return
        self._replay_not_before = now + self.retry_seconds
        threading.Thread(target=self.replay_pending, name="consent-replay", daemon=True).start()

    def copy_unmirrored(self) -> int:
        """Tell the copy every change the database took while Redis was away (`mirrored = false`); how many.

        Each process runs this when it starts and when Redis answers again after failing it, so a change
        whose process died before Redis returned reaches the copy then, not only at the next rebuild."""
        if self.mirror is None:
            return 0
        done = 0
        try:
            with self.session_factory() as session:
                rows = session.execute(
                    select(ConsentRecord.person, ConsentRecord.opted_out, ConsentRecord.version)
                    .where(ConsentRecord.mirrored.is_(False))
                    .limit(SYNC_BATCH)
                ).all()
        except Exception as exc:  # noqa: BLE001 - the next rebuild copies them
            self.faults.report("reading consent changes Redis lacks", exc)
            return 0
        for person, state, version in rows:
            change = Change(person, bool(state), int(version))
            if not self._write_copy(change, pending=False):
                break
            self._mark_mirrored(change)
            done += 1
        if done:
            log.info("copied %d consent changes the database took while Redis was away", done)
        return done

    def copy_unmirrored_in_background(self) -> None:
        """`copy_unmirrored` on a thread."""
        threading.Thread(target=self.copy_unmirrored, name="consent-copy", daemon=True).start()

    # -- rebuilding the copy ---------------------------------------------------------------------------------

    def sync(self) -> bool:
        """Make the copy agree with the database, both ways, then mark it complete; False if another
        process is already doing it, or the rebuild's lock was lost."""
        if self.mirror is None:
            return False
        token = uuid.uuid4().hex
        if not self.mirror.set(self._sync_lock_key, token, nx=True, ex=SYNC_LOCK_SECONDS):
            return False
        try:
            self.replay_pending()  # first, so what the database says below includes what Redis took alone
            began = now_version()
            opted_out: set[str] = set()
            with self.session_factory() as session:
                batch: list[tuple[str, bool, int]] = []
                for person, state, version in self._records(session):
                    if state:
                        opted_out.add(person)
                    batch.append((person, state, version))
                    if len(batch) == SYNC_BATCH and not self._copy_batch(token, batch):
                        return _lock_lost()
                if not self._copy_batch(token, batch):
                    return _lock_lost()
            if not self._remove_stale(token, opted_out, began - CHANGED_SINCE_MARGIN_US):
                return _lock_lost()
            with self.session_factory() as session, session.begin():
                session.execute(
                    update(ConsentRecord)
                    .where(ConsentRecord.mirrored.is_(False), ConsentRecord.version < began)
                    .values(mirrored=True)
                )
            # Only if Redis still holds our lock: a flush or restart meanwhile may have erased entries we wrote.
            keys = (self._sync_lock_key, self.complete_key)
            if not self.mirror.eval(_MARK_COMPLETE, 2, *keys, token, self.sync_seconds):
                return _lock_lost()
            log.info("opt-out copy in Redis rebuilt: %d opted-out numbers", len(opted_out))
            return True
        finally:
            self.mirror.eval(_UNLOCK, 1, self._sync_lock_key, token)

    @staticmethod
    def _records(session: Session) -> Iterator[tuple[str, bool, int]]:
        """Every number's consent in the database: its record, or a STOP kept before versions (version 0)."""
        recorded: set[str] = set()
        rows = select(ConsentRecord.person, ConsentRecord.opted_out, ConsentRecord.version)
        for person, state, version in session.execute(rows.execution_options(yield_per=SYNC_BATCH)):
            recorded.add(person)
            yield person, bool(state), int(version)
        for person in session.scalars(select(OptOut.person).execution_options(yield_per=SYNC_BATCH)):
            if person not in recorded:
                yield person, True, 0

    def _copy_batch(self, token: str, batch: list[tuple[str, bool, int]]) -> bool:
        """Write the database's state of `batch` over older entries (a change since our read keeps its
        newer entry); False, writing nothing, if our lock is gone. Empties `batch`."""
        assert self.mirror is not None
        keys = [self.mirror_key(person) for person, _, _ in batch]
        args: list[str | int] = []
        for _, state, version in batch:
            args += ["1" if state else "0", version]
        done = bool(self.mirror.eval(_COPY_BATCH, 1 + len(keys), self._sync_lock_key, *keys, token,
                                     OPTED_BACK_IN_SECONDS, *args))
        batch.clear()
        return done

    def _remove_stale(self, token: str, opted_out: set[str], cutoff: int) -> bool:
        """Remove "opted out" entries whose number the database does not hold as opted out."""
        assert self.mirror is not None
        prefix = self.mirror_key("")
        stale: list[str] = []
        for raw in self.mirror.scan_iter(match=f"{prefix}*", count=SYNC_BATCH):
            key = raw.decode() if isinstance(raw, bytes) else raw
            if key[len(prefix):] not in opted_out:
                stale.append(key)
            if len(stale) == SYNC_BATCH and not self._remove_batch(token, stale, prefix, cutoff):
                return False
        return self._remove_batch(token, stale, prefix, cutoff)

    def _remove_batch(self, token: str, keys: list[str], prefix: str, cutoff: int) -> bool:
        assert self.mirror is not None
        if not keys:
            return True
        people = [key[len(prefix):] for key in keys]
        done = bool(self.mirror.eval(_REMOVE_STALE, 2 + len(keys), self._sync_lock_key, self.pending_key, *keys,
                                     token, cutoff, *people))
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
                self.faults.report("rebuilding the opt-out copy in Redis", exc)

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
