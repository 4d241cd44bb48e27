"""Opt-outs kept in the database (the record of consent), mirrored in Redis for reads during an outage."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.storage.models import OptOut

log = logging.getLogger(__name__)


class OptOutStore:
    """Who asked for no more messages, by keyed hash of their number."""

    def __init__(self, session_factory: Callable[[], Session], mirror: redis.Redis | None = None, prefix: str = "hl"):
        self.session_factory = session_factory
        self.mirror = mirror
        self.prefix = prefix

    def _mirror_key(self, person: str) -> str:
        return f"{self.prefix}:optout:{person}"

    def is_opted_out(self, person: str) -> bool:
        """True when this person said STOP and has not said START since; the database decides."""
        try:
            with self.session_factory() as session:
                return session.get(OptOut, person) is not None
        except SQLAlchemyError:
            if self.mirror is None:
                raise
            log.warning("opt-out check fell back to the Redis mirror (database unavailable)")
            return bool(self.mirror.exists(self._mirror_key(person)))

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

    def _mirror(self, person: str, opted_out: bool) -> None:
        if self.mirror is None:
            return
        try:
            if opted_out:
                self.mirror.set(self._mirror_key(person), "1")
            else:
                self.mirror.delete(self._mirror_key(person))
        except redis.RedisError:
            log.warning("could not mirror an opt-out change to Redis")
