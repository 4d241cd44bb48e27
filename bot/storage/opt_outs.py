"""Opt-outs kept in the database (the record of consent), with a copy in Redis that answers texts quickly.

The Redis copy holds, per keyed hash, "1" (opted out, kept with no expiry: it also answers while the database
is down) or "0" (not opted out, remembered for `cache_seconds`, so a person's next texts skip the database).
A missing entry means "ask the database". Writes go to the database first and then to Redis, so the copy is
never ahead of the record. Texts we send (the lists) always ask the database: `is_opted_out`.

Known window: if a STOP is recorded while Redis is unreachable, and Redis later comes back with its old
data, a cached "0" for that person can answer for up to `cache_seconds`. The database record still stops
every text we send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.storage.models import OptOut

log = logging.getLogger(__name__)

OPTED_OUT = b"1"
NOT_OPTED_OUT = b"0"


class OptOutStore:
    """Who asked for no more messages, by keyed hash of their number."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        mirror: redis.Redis | None = None,
        prefix: str = "hl",
        cache_seconds: int = 3600,
    ):
        self.session_factory = session_factory
        self.mirror = mirror
        self.prefix = prefix
        self.cache_seconds = cache_seconds

    def mirror_key(self, person: str) -> str:
        """The Redis key of this person's copy (pipelines that batch the read use it)."""
        return f"{self.prefix}:optout:{person}"

    @staticmethod
    def from_mirror(value: bytes | None) -> bool | None:
        """What a mirror entry says: opted out, not, or None for "ask the database"."""
        if value is None:
            return None
        return value == OPTED_OUT

    def is_opted_out(self, person: str) -> bool:
        """True when this person said STOP and has not said START since; the database decides."""
        try:
            with self.session_factory() as session:
                opted_out = session.get(OptOut, person) is not None
        except SQLAlchemyError:
            if self.mirror is None:
                raise
            log.warning("opt-out check fell back to the Redis mirror (database unavailable)")
            return self.mirror.get(self.mirror_key(person)) == OPTED_OUT
        self._mirror(person, opted_out, only_if_absent=True)
        return opted_out

    def opt_out(self, person: str, keyword: str) -> None:
        """Record a STOP (idempotent: the first keyword and time are kept)."""
        with self.session_factory() as session, session.begin():
            if session.get(OptOut, person) is None:
                session.add(OptOut(person=person, keyword=keyword[:32]))
        self._mirror(person, True)

    def opt_in(self, person: str) -> None:
        """Forget a STOP after START, UNSTOP or YES."""
        with self.session_factory() as session, session.begin():
            session.execute(delete(OptOut).where(OptOut.person == person))
        self._mirror(person, False)

    def _mirror(self, person: str, opted_out: bool, only_if_absent: bool = False) -> None:
        """Copy a state to Redis. A copy made from a read must not overwrite one a STOP or START wrote meanwhile,
        so reads fill only an absent entry (NX); changes always overwrite."""
        if self.mirror is None:
            return
        try:
            if opted_out:
                self.mirror.set(self.mirror_key(person), OPTED_OUT, nx=only_if_absent)
            else:
                self.mirror.set(self.mirror_key(person), NOT_OPTED_OUT, ex=self.cache_seconds, nx=only_if_absent)
        except redis.RedisError:
            log.warning("could not copy an opt-out change to Redis")
