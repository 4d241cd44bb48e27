"""Consent through every outage: STOP and START taken while Redis, the database or both are away, with Redis
coming back empty (killed) or with its data (stopped cleanly after a SAVE). Real servers throughout.

Each word is confirmed at once with the hotlines and takes effect at once; when the stores return they agree
again within `AGREE_SECONDS` (the retry interval plus a rebuild, docs/operations.md), and the change is kept.
"""

from __future__ import annotations

import itertools
import time

import pytest
import redis
from sqlalchemy import delete

from bot.config import load_settings
from bot.core.identity import person_key
from bot.storage.models import ConsentRecord, OptOut
from bot.storage.opt_outs import Change, OptOutStore, now_version
from bot.web import create_app
from tests.conftest import make_env
from tests.faults.conftest import BreakableDatabase, RedisServer
from tests.places import shared_places
from tests.twilio_webhooks import Phone, assert_hotlines

AGREE_SECONDS = 5.0
HASH_SECRET = "test-hash-secret"
OUTAGES = [
    "redis killed (returns empty)",
    "redis stopped (returns with its data)",
    "database refused",
    "both, redis killed",
    "both, redis stopped",
]
_numbers = itertools.count(1)


def _app(tmp_path, db: BreakableDatabase, server: RedisServer):  # type: ignore[no-untyped-def]
    app = create_app(load_settings(make_env(tmp_path, db.url, server.url)), places=shared_places())
    db.watch(app.extensions["helpline_parts"])
    return app


def database_says(parts, person: str) -> bool | None:  # type: ignore[no-untyped-def]
    """The database's consent for `person` (True: opted out)."""
    with parts.db_sessions() as session:
        record = session.get(ConsentRecord, person)
        optout = session.get(OptOut, person)
    if record is not None:
        assert record.opted_out == (optout is not None), "the opt-out list and the record agree"
        return record.opted_out
    return optout is not None


def copy_says(server: RedisServer, store: OptOutStore, person: str) -> bool | None:
    """What a text would read from Redis' copy (None: the copy is not complete, the database is asked)."""
    client = redis.Redis.from_url(server.url)
    try:
        return store.from_mirror(client.get(store.mirror_key(person)), client.get(store.complete_key))
    finally:
        client.close()


def wait_until_they_agree(parts, server: RedisServer, person: str, expected: bool) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    store = parts.helpline.opt_outs
    while True:
        seen = (database_says(parts, person), copy_says(server, store, person))
        if seen == (expected, expected) and store.unsettled() == 0:
            return time.monotonic() - start
        assert time.monotonic() - start < AGREE_SECONDS, f"database and copy say {seen}, expected {expected}"
        time.sleep(0.1)


@pytest.mark.parametrize("outage", OUTAGES)
@pytest.mark.parametrize("word", ["STOP", "START"])
def test_a_consent_word_in_an_outage_is_confirmed_kept_and_copied_when_the_stores_return(
    tmp_path, redis_server: RedisServer, breakable_db: BreakableDatabase, word: str, outage: str
) -> None:
    app = _app(tmp_path, breakable_db, redis_server)
    parts = app.extensions["helpline_parts"]
    phone = Phone(app.test_client(), f"+1386555{7000 + next(_numbers):04d}")
    person = person_key(HASH_SECRET, phone.number)
    phone.send("hi")
    parts.helpline.opt_outs.wait_for_sync(5)
    assert "COUNTY" in phone.send("1")  # a state in which a menu digit is not understood
    if word == "START":
        assert "unsubscribed" in phone.send("STOP")
        phone.send_silent("hi")
    redis_away = outage.startswith(("redis", "both"))
    database_away = outage.startswith(("database", "both"))
    if redis_away:
        redis_server.kill() if "killed" in outage else redis_server.stop_cleanly()
    if database_away:
        breakable_db.refuse()

    reply = phone.send(word)
    assert_hotlines(reply)
    if word == "STOP":
        assert "unsubscribed" in reply and "988" in reply
        phone.send_silent("hi")
        phone.send_silent("I want to kill myself")
    else:
        assert "resubscribed" in reply
        assert "didn't understand" not in phone.send("2"), "after START the conversation starts fresh"
        assert "Volusia Recovery Alliance" in phone.send("volusia")

    if redis_away:
        redis_server.start()
    if database_away:
        breakable_db.restore()
    if word == "STOP":
        phone.send_silent("hello?")
    else:
        assert_hotlines(phone.send("hello?"))
    took = wait_until_they_agree(parts, redis_server, person, expected=word == "STOP")
    assert took < AGREE_SECONDS
    # A second process, which took no part in it, reads the same.
    other = Phone(_app(tmp_path, breakable_db, redis_server).test_client(), phone.number)
    if word == "STOP":
        other.send_silent("are you there")
    else:
        assert_hotlines(other.send("are you there"))


def test_start_and_unstop_are_read_first_in_any_state_yes_only_after_stop(tmp_path, redis_server, breakable_db) -> None:
    phone = Phone(_app(tmp_path, breakable_db, redis_server).test_client(), "+13865557101")
    phone.send("hi")
    for word in ["START", "unstop", "Start."]:
        reply = phone.send(word)
        assert "Did you mean" not in reply and "Stark" not in reply, reply
        assert "1 Local peer support" in reply
        assert "COUNTY" in phone.send("1")
        assert "didn't understand" in phone.send("2"), "(the negative case: a digit where a county is asked)"
    # YES answers the engine's question for a subscribed number (the negative case).
    phone.send("flager")
    assert "Did you mean St. Johns County, FL?" in phone.send("st jon")
    assert "Discover & Recover St. Johns County" in phone.send("yes")
    phone.send("STOP")
    assert "resubscribed" in phone.send("yes")


def test_after_stop_and_start_a_menu_digit_works(tmp_path, redis_server, breakable_db) -> None:
    phone = Phone(_app(tmp_path, breakable_db, redis_server).test_client(), "+13865557102")
    assert "COUNTY" in phone.send("1")
    phone.send("STOP")
    assert "resubscribed" in phone.send("START")
    assert "didn't understand" not in phone.send("2")


def test_a_rebuild_removes_what_the_database_no_longer_holds_but_keeps_a_change_it_has_not_seen(
    tmp_path, redis_server, breakable_db
) -> None:
    app = _app(tmp_path, breakable_db, redis_server)
    parts = app.extensions["helpline_parts"]
    store: OptOutStore = parts.helpline.opt_outs
    client = redis.Redis.from_url(redis_server.url)
    gone, kept, back_in = (person_key(HASH_SECRET, f"+1386555710{i}") for i in (3, 4, 5))
    # An old copy (restored from a backup, say): `gone` and `back_in` opted out long ago.
    client.set(store.mirror_key(gone), "1:1000")
    client.set(store.mirror_key(back_in), "1:1000")
    # The database holds `back_in`'s later START, and nothing of `gone` (an admin removed it).
    assert store.change(Change(back_in, False, now_version())).database
    client.set(store.mirror_key(back_in), "1:1000")
    # `kept` says STOP while the database is away: only Redis has it.
    breakable_db.refuse()
    taken = store.change(Change(kept, True, now_version(), "stop"))
    assert (taken.database, taken.copy) == (False, True)
    store._unsettled.clear()  # as if the process that took it had died: only Redis' pending set remembers
    breakable_db.restore()

    assert store.sync()
    assert store.from_mirror(client.get(store.mirror_key(gone)), b"1") is False
    assert store.from_mirror(client.get(store.mirror_key(back_in)), b"1") is False
    assert store.from_mirror(client.get(store.mirror_key(kept)), b"1") is True
    assert database_says(parts, kept) is True, "the change taken while the database was away reached it"
    assert not client.smembers(store.pending_key)


def test_a_late_replay_never_undoes_a_newer_change(tmp_path, redis_server, breakable_db) -> None:
    app = _app(tmp_path, breakable_db, redis_server)
    store: OptOutStore = app.extensions["helpline_parts"].helpline.opt_outs
    person = person_key(HASH_SECRET, "+13865557106")
    later = now_version()
    assert store.change(Change(person, False, later)).database
    store.change(Change(person, True, later - 1_000_000, "stop"))  # a STOP from a second earlier, arriving late
    assert store.is_opted_out(person) is False
    with app.extensions["helpline_parts"].db_sessions() as session, session.begin():
        session.execute(delete(OptOut).where(OptOut.person == person))
    assert database_says(app.extensions["helpline_parts"], person) is False


def test_consent_faults_are_logged_once_a_minute_not_per_text(tmp_path, redis_server, breakable_db, caplog) -> None:
    import logging

    app = _app(tmp_path, breakable_db, redis_server)
    client = app.test_client()
    Phone(client, "+13865557110").send("hi")
    app.extensions["helpline_parts"].helpline.opt_outs.wait_for_sync(5)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        redis_server.kill()
        for i in range(4):  # the copy cannot take these STOPs
            assert "unsubscribed" in Phone(client, f"+138655571{20 + i}").send("STOP")
        redis_server.start()
        breakable_db.refuse()
        client.application.extensions["helpline_parts"].redis.delete("hl:optouts-complete")
        for i in range(4):  # texts now ask the database, which is away
            assert_hotlines(Phone(client, f"+138655571{30 + i}").send("hi"))
        breakable_db.restore()
    lines = [r.getMessage() for r in caplog.records if "opt-out" in r.getMessage() or "consent" in r.getMessage()]
    kinds = [line.split(" failed:")[0] for line in lines]
    assert lines, "the faults are logged"
    assert len(kinds) == len(set(kinds)), lines


def test_a_start_whose_process_died_reaches_a_copy_that_returned_with_its_data(tmp_path, redis_server,
                                                                              breakable_db) -> None:
    """The worst case of the issue: STOP, Redis away, START, the process that took it gone, Redis back with
    the old STOP. Another process puts the START in the copy when Redis first answers it."""
    first = _app(tmp_path, breakable_db, redis_server)
    phone = Phone(first.test_client(), "+13865557140")
    person = person_key(HASH_SECRET, phone.number)
    phone.send("STOP")
    first.extensions["helpline_parts"].helpline.opt_outs.wait_for_sync(5)
    second = _app(tmp_path, breakable_db, redis_server)  # another worker
    bystander = Phone(second.test_client(), "+13865557141")
    bystander.send("hi")
    redis_server.stop_cleanly()
    assert "resubscribed" in phone.send("START")
    first.extensions["helpline_parts"].helpline.opt_outs._unsettled.clear()  # as if its process died
    assert_hotlines(bystander.send("hi"))  # the other worker finds Redis away too
    redis_server.start()
    bystander.send("1")  # its first answer from Redis since the outage
    other = Phone(second.test_client(), phone.number)
    parts = second.extensions["helpline_parts"]
    deadline = time.monotonic() + AGREE_SECONDS
    while copy_says(redis_server, parts.helpline.opt_outs, person) is not False:
        assert time.monotonic() < deadline, "the copy still says opted out"
        time.sleep(0.1)
    assert_hotlines(other.send("I want to kill myself"))
