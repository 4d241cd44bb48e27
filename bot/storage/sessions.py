"""Conversation sessions in Redis: JSON under a hashed key, with a time-to-live.

A second, longer-lived marker remembers only *that* someone wrote before, and in which language, so an
expired conversation restarts cleanly with a short "welcome back" in that language. Both live under the
keyed hash and within the retention limit (`RETURNING_TTL_SECONDS`, at most `RETENTION_DAYS`).
"""

from __future__ import annotations

import json
import logging

import redis
from redis.client import Pipeline

from bot.core.session import Session
from bot.storage.write_batch import send_or_queue

log = logging.getLogger(__name__)


class RedisSessionStore:
    """`SessionStore` on Redis."""

    def __init__(self, client: redis.Redis, ttl_seconds: int, returning_ttl_seconds: int, prefix: str = "hl"):
        self.client = client
        self.ttl = ttl_seconds
        self.returning_ttl = returning_ttl_seconds
        self.prefix = prefix

    def _keys(self, key: str) -> tuple[str, str]:
        return f"{self.prefix}:session:{key}", f"{self.prefix}:seen:{key}"

    def load(self, key: str) -> tuple[Session | None, bool]:
        """The live session, if any, and whether this person wrote before."""
        return self.loaded(self.client.mget(*self._keys(key)))

    def load_into(self, pipe: redis.client.Pipeline, key: str) -> None:
        """Queue the read of `load` on a pipeline; its one reply goes to `loaded`."""
        pipe.mget(*self._keys(key))

    @staticmethod
    def language_of(reply: list[bytes | str | None]) -> str | None:
        """The language kept with the "wrote before" marker, from the reply of `load_into` (None when the
        marker holds none, as a bare "1" does)."""
        seen = reply[1]
        if seen is None:
            return None
        value = seen.decode() if isinstance(seen, bytes) else str(seen)
        return value if value.isalpha() else None

    def loaded(self, reply: list[bytes | str | None]) -> tuple[Session | None, bool]:
        """`load`'s answer from the reply of `load_into`."""
        raw, seen = reply
        if raw is None:
            return None, seen is not None
        try:
            return Session.from_dict(json.loads(raw)), True
        except (ValueError, KeyError, TypeError):
            log.warning("discarding an unreadable session")
            return None, True

    def save(self, key: str, session: Session) -> None:
        """Store the session and refresh both time-to-lives (with the answer, inside a `write_batch`)."""
        session_key, seen_key = self._keys(key)
        data = json.dumps(session.to_dict(), separators=(",", ":"))

        def queue(pipe: Pipeline) -> None:
            pipe.set(session_key, data, ex=self.ttl)
            if not key.startswith("voice:"):  # a CallSid never calls again: "welcome back" is for texts only
                pipe.set(seen_key, session.language, ex=self.returning_ttl)

        send_or_queue(self.client, queue)

    def forget(self, key: str) -> None:
        """Drop the session and the "wrote before" marker at once."""
        self.client.delete(*self._keys(key))
