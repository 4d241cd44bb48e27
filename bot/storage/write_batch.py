"""One webhook's writes to Redis, sent together once its answer is ready.

Answering a delivery writes the conversation's session and then the answer itself (kept for a redelivery).
Sent one by one that is two waits on Redis; inside `write_batch` the stores queue their writes on one
pipeline, which the batch's owner sends with its own. Outside a batch every store writes at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import redis
from redis.client import Pipeline

_open_batch: ContextVar[Pipeline | None] = ContextVar("redis_write_batch", default=None)


@contextmanager
def write_batch(client: redis.Redis) -> Iterator[Pipeline]:
    """Collect the writes made inside the block on one pipeline; the caller executes it."""
    pipe = client.pipeline(transaction=False)
    token = _open_batch.set(pipe)
    try:
        yield pipe
    finally:
        _open_batch.reset(token)


def send_or_queue(client: redis.Redis, queue: Callable[[Pipeline], None]) -> None:
    """Queue writes on the open batch for this client, or send them now when there is none."""
    batch = _open_batch.get()
    if batch is not None and batch.connection_pool is client.connection_pool:
        queue(batch)
        return
    pipe = client.pipeline(transaction=False)
    queue(pipe)
    pipe.execute()
