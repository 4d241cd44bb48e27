"""A store that hangs or refuses costs a text seconds, never the service: every wait on a request path is
bounded, and a worker starts and serves (degraded) while the database is down or hung.

The database is reached through a `TcpProxy` that refuses (cut) or accepts and never answers (stall); so is a
Redis server of the test's own.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

from bot.config import load_settings
from bot.storage.redis_server import client_for
from bot.web import create_app
from tests.conftest import make_env
from tests.faults.conftest import BreakableDatabase, RedisServer
from tests.faults.tcp_proxy import TcpProxy
from tests.places import shared_places
from tests.twilio_webhooks import Phone, assert_hotlines

T = TypeVar("T")
_numbers = itertools.count(7201)
WELL_INSIDE_TWILIO = 8.0
"""Twilio waits 15 s for a webhook's answer."""


def within(seconds: float, work: Callable[[], T]) -> tuple[T, float]:
    """`work()`'s result and how long it took, failing (not hanging) if it takes longer than `seconds`."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    took = time.monotonic() - start
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    if errors:
        raise errors[0]
    return result[0], took


def _env(tmp_path, db_url: str, redis_url: str):  # type: ignore[no-untyped-def]
    return load_settings(make_env(tmp_path, db_url, redis_url))


@pytest.mark.parametrize("mode", ["refused", "stalled"])
def test_a_worker_starts_and_answers_while_the_database_is_away(
    tmp_path, breakable_db: BreakableDatabase, redis_url, redis_client, mode: str
) -> None:
    if not breakable_db.networked:
        pytest.skip("needs a networked database (PostgreSQL) to refuse or stall connections")
    breakable_db.refuse() if mode == "refused" else breakable_db.stall()
    app, started = within(30, lambda: create_app(
        _env(tmp_path, breakable_db.url, redis_url), redis_client, places=shared_places()
    ))
    assert started < 15, f"start-up took {started:.1f} s"
    phone = Phone(app.test_client(), f"+1386555{next(_numbers):04d}")
    for body in ["hi", "1", "volusia", "I want to kill myself"]:
        reply, took = within(WELL_INSIDE_TWILIO, lambda b=body: phone.send(b))
        assert_hotlines(reply)
        assert took < WELL_INSIDE_TWILIO
    assert "988" in reply
    confirmation, took = within(WELL_INSIDE_TWILIO, lambda: phone.send("STOP"))
    assert "unsubscribed" in confirmation
    phone.send_silent("hi")
    breakable_db.restore()


@pytest.mark.parametrize("mode", ["refused", "stalled"])
def test_texts_are_answered_in_seconds_when_the_database_hangs_mid_conversation(
    tmp_path, breakable_db: BreakableDatabase, redis_url, redis_client, mode: str
) -> None:
    app = create_app(_env(tmp_path, breakable_db.url, redis_url), redis_client, places=shared_places())
    breakable_db.watch(app.extensions["helpline_parts"])
    parts = app.extensions["helpline_parts"]
    phone = Phone(app.test_client(), f"+1386555{next(_numbers):04d}")
    phone.send("hi")
    parts.helpline.opt_outs.wait_for_sync(5)
    assert "Volusia Recovery Alliance" in phone.send("volusia")
    redis_client.delete("hl:optouts-complete")  # texts now ask the database for consent
    breakable_db.refuse() if mode == "refused" else breakable_db.stall()
    for body in ["flagler", "STOP"]:
        reply, _ = within(WELL_INSIDE_TWILIO, lambda b=body: phone.send(b))
        assert_hotlines(reply)
    assert "unsubscribed" in reply
    within(WELL_INSIDE_TWILIO, lambda: phone.send_silent("hello"))
    health, _ = within(WELL_INSIDE_TWILIO, lambda: app.test_client().get("/healthz"))
    if breakable_db.networked or mode == "refused":  # a locked SQLite file still reads (WAL): it is up
        assert health.status_code == 503 and health.json["database"] is False
    breakable_db.restore()
    assert "resubscribed" in phone.send("START")


@pytest.mark.parametrize("mode", ["refused", "stalled"])
def test_texts_are_answered_in_a_second_when_redis_hangs(tmp_path, breakable_db, redis_server: RedisServer,
                                                          mode: str) -> None:
    proxy = TcpProxy("127.0.0.1", redis_server.port)
    url = f"redis://{proxy.address}/0"
    app = create_app(_env(tmp_path, breakable_db.url, url), client_for(url), places=shared_places())
    phone = Phone(app.test_client(), f"+1386555{next(_numbers):04d}")
    phone.send("hi")
    proxy.cut() if mode == "refused" else proxy.stall()
    for body in ["volusia", "STOP"]:
        reply, took = within(WELL_INSIDE_TWILIO, lambda b=body: phone.send(b))
        assert_hotlines(reply)
        assert took < 3, f"{body}: {took:.1f} s"
    assert "unsubscribed" in reply
    proxy.restore()
    proxy.cut()
