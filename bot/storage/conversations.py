"""Conversations in Redis: what answering one message reads before the engine runs, and writes after.

The path of one message makes two calls here, each one round trip to Redis:

- `open` claims the webhook delivery (Twilio may deliver one twice: the first copy answers, a later one gets
  its answer), loads the session and the "wrote before" marker, counts a text against its sender's rate window
  and reads Redis' copy of the sender's opt-out, all on one pipeline. It returns an `Opening`.
- `commit` writes the session and the answer kept for a redelivery, on one pipeline.

Each part keeps its own key names and reads its own replies: `SessionKeys` (the session, under a hashed key, and
the marker that outlives it), `RateLimit` (a fixed-window counter per sender) and `Replay` (the claim and the
stored answer). Every key is under the keyed hash of the number and expires within the retention limit.

When Redis' copy of the opt-outs is not known to be complete, `Opening.opted_out` is None (the caller asks the
database) and the copy is rebuilt in the background; when Redis holds consent changes the database has not
taken yet (it was away), they are replayed into it in the background.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import redis
from redis.client import Pipeline

from bot.core.session import Opening, Session
from bot.storage.opt_outs import OptOutStore

log = logging.getLogger(__name__)

PENDING = b"\x00pending"
"""What a delivery's key holds while its first copy is being answered."""


def delivery_key(path: str, params: Mapping[str, str]) -> str:
    """Identity of one webhook delivery: the path and every signed parameter, hashed (no body is stored)."""
    digest = hashlib.sha256(path.encode())
    for name in sorted(params):
        digest.update(b"\x00" + name.encode() + b"\x01" + params[name].encode())
    return digest.hexdigest()[:40]


@dataclass(frozen=True)
class SessionKeys:
    """A conversation's session (JSON, for `ttl` seconds) and the marker that remembers only *that* someone
    wrote before, and in which language (for `returning_ttl` seconds), so an expired conversation restarts
    with a short "welcome back"."""

    ttl: int
    returning_ttl: int
    prefix: str = "hl"

    def names(self, key: str) -> tuple[str, str]:
        return f"{self.prefix}:session:{key}", f"{self.prefix}:seen:{key}"

    def queue_load(self, pipe: Pipeline, key: str) -> None:
        pipe.mget(*self.names(key))

    @staticmethod
    def loaded(reply: list[bytes | str | None]) -> tuple[Session | None, bool, str | None]:
        """The session, whether this person wrote before, and the language kept with the marker."""
        raw, seen = reply
        language = None
        if seen is not None:
            value = seen.decode() if isinstance(seen, bytes) else str(seen)
            language = value if value.isalpha() else None  # a bare "1" holds no language
        if raw is None:
            return None, seen is not None, language
        try:
            return Session.from_dict(json.loads(raw)), True, language
        except (ValueError, KeyError, TypeError):
            log.warning("discarding an unreadable session")
            return None, True, language

    def queue_save(self, pipe: Pipeline, key: str, session: Session) -> None:
        session_name, seen_name = self.names(key)
        pipe.set(session_name, json.dumps(session.to_dict(), separators=(",", ":")), ex=self.ttl)
        if not key.startswith("voice:"):  # a CallSid never calls again: "welcome back" is for texts only
            pipe.set(seen_name, session.language, ex=self.returning_ttl)


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` texts from one sender each `window` seconds (0: texts are not counted)."""

    limit: int
    window: int
    prefix: str = "hl"

    def queue_count(self, pipe: Pipeline, key: str) -> None:
        """Two commands: their replies are the count, then a flag."""
        name = f"{self.prefix}:rate:{key}:{int(time.time() // self.window)}"
        pipe.incr(name)
        pipe.expire(name, self.window * 2)

    def over(self, count: object) -> bool:
        return int(count) > self.limit  # type: ignore[call-overload]


@dataclass
class Replay:
    """Once per delivery: the first copy claims it (SET NX) before anything changes, and its answer is kept for
    `ttl` seconds; a copy that arrives while the first is still being answered waits up to `wait` seconds."""

    ttl: int = 3600
    wait: float = 5.0
    prefix: str = "hl"

    def name(self, delivery: str) -> str:
        return f"{self.prefix}:replay:{delivery}"

    def queue_claim(self, pipe: Pipeline, delivery: str) -> None:
        pipe.set(self.name(delivery), PENDING, nx=True, ex=max(int(self.wait * 4), 30))

    def queue_answer(self, pipe: Pipeline, delivery: str, answer: bytes) -> None:
        pipe.set(self.name(delivery), answer, ex=self.ttl)


class ConversationStore:
    """`Conversations` on Redis: `open` before the engine, `commit` after, one round trip each."""

    def __init__(
        self,
        client: redis.Redis,
        sessions: SessionKeys,
        rate: RateLimit | None = None,
        replay: Replay | None = None,
        opt_outs: OptOutStore | None = None,
    ):
        self.client = client
        self.sessions = sessions
        self.rate = rate if rate is not None and rate.limit > 0 else None
        self.replay = replay if replay is not None else Replay()
        self.opt_outs = opt_outs if opt_outs is not None and opt_outs.mirror is not None else None
        self._redis_failed = True  # as at a start: the first answer from Redis also catches the opt-out copy up

    def open(self, key: str, person: str | None = None, delivery: str | None = None) -> Opening:
        """Claim `delivery` (when given) and load `key`'s session; for a text (`person` given) also count it and
        read the opt-out copy. A copy that loses the claim learns it before anything has changed but its
        sender's rate count, and gets `Opening.duplicate`.

        Raises what Redis raises: the caller degrades (no memory, no limit, opt-outs from the database).
        """
        rate = self.rate if person is not None else None
        opt_outs = self.opt_outs if person is not None else None
        pipe = self.client.pipeline(transaction=False)
        if delivery is not None:
            self.replay.queue_claim(pipe, delivery)
        self.sessions.queue_load(pipe, key)
        if rate is not None:
            rate.queue_count(pipe, key)
        if opt_outs is not None and person is not None:
            pipe.mget(opt_outs.mirror_key(person), opt_outs.complete_key)
            pipe.scard(opt_outs.pending_key)
        try:
            replies = pipe.execute()
        except Exception:
            self._redis_failed = True
            raise
        if delivery is not None and not replies.pop(0):
            return Opening(None, False, duplicate=True)
        session, returning, language = self.sessions.loaded(replies[0])
        opted_out = None
        if opt_outs is not None:
            opted_out = self._opt_out_copy(opt_outs, replies[-2], replies[-1])
        return Opening(
            session,
            returning,
            opted_out=opted_out,
            over_limit=rate.over(replies[1]) if rate is not None else False,
            language=language,
            claimed=delivery,
        )

    def _opt_out_copy(self, opt_outs: OptOutStore, entries: list[bytes | None], pending: int) -> bool | None:
        opted_out = opt_outs.from_mirror(*entries)
        if opted_out is None:
            opt_outs.sync_in_background()  # a rebuild, which also copies what the database took alone
        elif self._redis_failed:
            # Redis answers again: its copy may lack changes the database took meanwhile.
            opt_outs.copy_unmirrored_in_background()
        self._redis_failed = False
        if pending:
            opt_outs.replay_in_background()  # changes taken while the database was away: it may be back
        return opted_out

    def commit(self, key: str, session: Session | None, delivery: str | None, answer: bytes | None) -> None:
        """Save `session` (when given) and keep `answer` for a redelivery of `delivery` (when claimed), at once.

        Raises what Redis raises: the answer is given anyway, and the conversation then goes on from where
        Redis last had it.
        """
        pipe = self.client.pipeline(transaction=False)
        if session is not None:
            self.sessions.queue_save(pipe, key, session)
        if delivery is not None and answer is not None:
            self.replay.queue_answer(pipe, delivery, answer)
        if len(pipe):
            pipe.execute()

    def release(self, delivery: str) -> None:
        """Drop the claim on a delivery whose answer failed, so a redelivery is answered afresh."""
        try:
            self.client.delete(self.replay.name(delivery))
        except redis.RedisError:
            pass

    def first_answer(self, delivery: str) -> bytes | None:
        """The answer the first copy of `delivery` gave, waiting up to `Replay.wait` for it; None when it is not
        there in time (or Redis does not answer): the copy is then told briefly, with the hotlines."""
        name = self.replay.name(delivery)
        deadline = time.monotonic() + self.replay.wait
        while True:
            try:
                stored = self.client.get(name)
            except redis.RedisError:
                return None
            if stored is None:
                return None  # the first copy failed and released its claim
            if stored != PENDING:
                return stored if isinstance(stored, bytes) else str(stored).encode()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def save(self, key: str, session: Session) -> None:
        """Store a session at once (a conversation started over by START)."""
        self.commit(key, session, None, None)

    def forget(self, key: str) -> None:
        """Drop the session and the "wrote before" marker at once."""
        self.client.delete(*self.sessions.names(key))
