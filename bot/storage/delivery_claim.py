"""A webhook delivery's claim, sent with the first read its answer makes from Redis.

Twilio may deliver a webhook twice, so the first copy claims the delivery (SET NX) before it changes
anything, and a later copy waits for the first one's answer. Sent on its own, that claim is one more wait on
Redis per message. Instead the replay cache opens a pending claim and the preflight, which reads the
session before anything is changed, puts the claim at the head of its own pipeline: one round trip for both.
A copy that loses the claim learns it before it has changed anything, and stops there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import redis
from redis.client import Pipeline

PENDING = b"\x00pending"


@dataclass
class Claim:
    """One delivery's claim: its Redis key, and whether it was won (None until it has been sent)."""

    client: redis.Redis
    name: str
    ttl_seconds: int
    won: bool | None = None

    def queue(self, pipe: Pipeline) -> None:
        pipe.set(self.name, PENDING, nx=True, ex=self.ttl_seconds)

    def settle(self, reply: object) -> bool:
        """Record the reply of `queue`'s command; whether this copy may go on."""
        self.won = bool(reply)
        return self.won


_open_claim: ContextVar[Claim | None] = ContextVar("delivery_claim", default=None)


@contextmanager
def pending_claim(client: redis.Redis, name: str, ttl_seconds: int) -> Iterator[Claim]:
    """Leave the claim of `name` to the first pipeline that carries it inside the block (`carry_claim`)."""
    claim = Claim(client, name, ttl_seconds)
    token = _open_claim.set(claim)
    try:
        yield claim
    finally:
        _open_claim.reset(token)


def carry_claim(pipe: Pipeline) -> Claim | None:
    """Queue the pending claim first on `pipe` if it goes to the claim's Redis, once; the caller settles it with
    the reply."""
    claim = _open_claim.get()
    if claim is None or claim.won is not None or claim.client.connection_pool is not pipe.connection_pool:
        return None
    _open_claim.set(None)
    claim.queue(pipe)
    return claim
