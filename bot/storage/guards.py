"""Per-sender rate limits and once-only webhook handling, both in Redis so every process agrees.

Both fail open: if Redis is unreachable a message is answered rather than dropped, because an unanswered
person in crisis is worse than a duplicate or a flood.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping

import redis

from bot.storage.delivery_claim import PENDING, pending_claim
from bot.storage.write_batch import write_batch


class RedisRateLimiter:
    """Fixed-window counter per sender: at most `limit` messages each `window_seconds`.

    It only names the commands; `RedisPreflight` sends them with a text's other reads, in one round trip.
    """

    def __init__(self, limit: int, window_seconds: int, prefix: str = "hl"):
        self.limit = limit
        self.window = window_seconds
        self.prefix = prefix

    def count_into(self, pipe: redis.client.Pipeline, key: str) -> None:
        """Queue the two commands that count a message from `key` (their replies: the count, then a flag)."""
        name = f"{self.prefix}:rate:{key}:{int(time.time() // self.window)}"
        pipe.incr(name)
        pipe.expire(name, self.window * 2)

    def over(self, count: object) -> bool:
        """Whether a count from `count_into` is over the limit (none when `limit` is 0)."""
        return self.limit > 0 and int(count) > self.limit  # type: ignore[call-overload]


def delivery_key(path: str, params: Mapping[str, str]) -> str:
    """Identity of one webhook delivery: the path and every signed parameter, hashed (no body is stored)."""
    digest = hashlib.sha256(path.encode())
    for name in sorted(params):
        digest.update(b"\x00" + name.encode() + b"\x01" + params[name].encode())
    return digest.hexdigest()[:40]


class RedisReplayCache:
    """Answers a re-delivered webhook with the answer already given, so state advances once."""

    def __init__(
        self,
        client: redis.Redis,
        ttl_seconds: int = 3600,
        wait_seconds: float = 5.0,
        prefix: str = "hl",
        on_error: Callable[[str, BaseException], None] | None = None,
    ):
        self.client = client
        self.on_error = on_error
        self.ttl = ttl_seconds
        self.wait = wait_seconds
        self.prefix = prefix

    def once(self, key: str, produce: Callable[[], bytes], busy: Callable[[], bytes]) -> bytes:
        """Run `produce` for the first delivery of `key`; later deliveries get its stored result.

        The claim on the delivery travels with the first read `produce` makes (`delivery_claim`), and what
        `produce` writes through the stores (the session) is sent with the result: two round trips in all.
        A copy that loses the claim has changed nothing but the sender's rate count.

        A copy that arrives while the first is still being answered waits up to `wait_seconds`, then
        gets `busy()` (a short answer with the hotlines) rather than a second run.
        """
        name = f"{self.prefix}:replay:{key}"
        with (
            pending_claim(self.client, name, max(int(self.wait * 4), 30)) as claim,
            write_batch(self.client) as writes,
        ):
            try:
                result = produce()
            except BaseException:
                if claim.won:
                    self._forget(name)
                raise
            if claim.won is not False:
                # None: nothing read from Redis first (it was down, or there was no one to remember).
                writes.set(name, result, ex=self.ttl)
                try:
                    writes.execute()
                except redis.RedisError as exc:
                    if self.on_error is not None:
                        self.on_error("answer and session save", exc)
                return result
        return self._wait_for_first(key, name, produce, busy)

    def _wait_for_first(self, key: str, name: str, produce: Callable[[], bytes], busy: Callable[[], bytes]) -> bytes:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                stored = self.client.get(name)
            except redis.RedisError:
                return busy()
            if stored is None:
                return self.once(key, produce, busy)
            if stored != PENDING:
                return stored if isinstance(stored, bytes) else stored.encode()
            if time.monotonic() >= deadline:
                return busy()
            time.sleep(0.05)

    def _forget(self, name: str) -> None:
        try:
            self.client.delete(name)
        except redis.RedisError:
            pass
