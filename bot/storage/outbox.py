"""What became of each text we send, in Redis: the record that makes a send happen once, and delivery statuses.

One record per requested text, keyed by an id the requester derives (a keyed hash of the call and the list),
holding only a state, a time and Twilio's message SID, never the number or the words:

    queued   -> the request was accepted (set with NX, so asking twice queues once)
    sending  -> an attempt is about to call Twilio, or did and never heard back
    sent     -> Twilio accepted it (with the message SID)
    rejected -> Twilio refused it for good (with the error code), or it may not be sent (opted out)

A short lock makes sure only one attempt for a record talks to Twilio at a time. Delivery statuses from
Twilio's status callbacks are kept by message SID (status and error code only).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import redis
from redis.lock import Lock

PREFIX = "hl:outbox:"
DELIVERY_PREFIX = "hl:delivery:"
RECORD_TTL_SECONDS = 24 * 60 * 60
DELIVERY_TTL_SECONDS = 7 * 24 * 60 * 60
FINAL_STATES = ("sent", "rejected")

# Twilio's message statuses in the order they can happen; a late "sent" must not overwrite "delivered".
_STATUS_RANK = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "receiving": 3, "received": 4,
    "delivered": 5, "read": 6, "undelivered": 5, "failed": 5, "canceled": 5,
}  # fmt: skip


@dataclass(frozen=True)
class Record:
    """The state of one requested text."""

    state: str
    at: float = 0.0
    sid: str = ""
    code: int | None = None
    attempts: int = 0

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


class Outbox:
    """The record and lock for one requested text."""

    def __init__(self, client: redis.Redis, send_id: str):
        self.client = client
        self.key = f"{PREFIX}{send_id}"

    def claim(self) -> bool:
        """Record a new request; False when this text was already requested (it will not be queued again)."""
        return bool(self.client.set(self.key, _dump(Record("queued", time.time())), nx=True, ex=RECORD_TTL_SECONDS))

    def release(self) -> None:
        """Forget a request that could not be queued, so it can be asked for again."""
        self.client.delete(self.key)

    def read(self) -> Record:
        """The current record (a missing one reads as queued: the job itself is the request)."""
        raw = self.client.get(self.key)
        if raw is None:
            return Record("queued")
        data = json.loads(raw)
        return Record(**{k: v for k, v in data.items() if k in Record.__dataclass_fields__})

    def write(self, record: Record) -> None:
        self.client.set(self.key, _dump(record), ex=RECORD_TTL_SECONDS)

    def lock(self, ttl_seconds: float, wait_seconds: float = 1.0) -> Lock:
        """A lock held by the one attempt that may talk to Twilio; it expires by itself if that attempt dies."""
        return self.client.lock(
            f"{self.key}:lock", timeout=ttl_seconds, blocking_timeout=wait_seconds, sleep=0.1, thread_local=False
        )


def record_delivery(client: redis.Redis, message_sid: str, status: str, error_code: str | None = None) -> None:
    """Keep the latest delivery status Twilio reported for a message (never going backwards)."""
    key = f"{DELIVERY_PREFIX}{message_sid}"
    current = client.get(key)
    if current is not None:
        old = json.loads(current).get("status", "")
        if _STATUS_RANK.get(old, -1) > _STATUS_RANK.get(status, -1):
            return
    value = {"status": status, "error_code": int(error_code) if error_code and error_code.isdigit() else None}
    client.set(key, json.dumps(value), ex=DELIVERY_TTL_SECONDS)


def delivery_status(client: redis.Redis, message_sid: str) -> dict[str, object] | None:
    """What Twilio last told us about a message: `{"status": "delivered", "error_code": None}`."""
    raw = client.get(f"{DELIVERY_PREFIX}{message_sid}")
    return json.loads(raw) if raw is not None else None


def _dump(record: Record) -> str:
    return json.dumps(asdict(record), separators=(",", ":"))
