"""Carrier compliance: STOP gets one confirmation, then silence until START; HELP answers."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event, text

from bot.config import load_settings
from bot.core.identity import person_key
from bot.storage.models import OptOut
from bot.web import create_app
from tests.conftest import make_env
from tests.places import shared_places
from tests.twilio_webhooks import Phone, assert_hotlines


@pytest.mark.parametrize(
    "word",
    [
        "STOP",
        "stop",
        "Stop.",
        "STOPALL",
        "unsubscribe",
        "CANCEL",
        "end",
        "Quit!",
        "revoke",
        "OPTOUT",
        "opt-out",
        "please stop texting me",
        "Don't text me",
    ],
)
def test_opt_out_words_get_one_confirmation_then_silence(phone: Phone, word: str) -> None:
    phone.send("hi")
    confirmation = phone.send(word)
    assert "unsubscribed from SMA Healthcare Peer Support Line" in confirmation
    assert "Reply START to resubscribe" in confirmation
    assert "988" in confirmation
    assert_hotlines(confirmation)
    phone.send_silent("hi")
    phone.send_silent("volusia")
    phone.send_silent(word)


def test_start_resubscribes_and_the_menu_is_back(phone: Phone) -> None:
    phone.send("STOP")
    phone.send_silent("menu")
    welcome = phone.send("START")
    assert "resubscribed" in welcome
    assert "1 Local peer support" in welcome
    assert "Volusia Recovery Alliance" in phone.send("volusia")


@pytest.mark.parametrize("word", ["UNSTOP", "yes"])
def test_unstop_and_yes_also_resubscribe(phone: Phone, word: str) -> None:
    phone.send("stop")
    assert "resubscribed" in phone.send(word)


@pytest.mark.parametrize(
    "body", ["I want to stop drinking", "how do I stop using", "the end of my rope", "cancel my appointment please"]
)
def test_sentences_that_merely_contain_a_keyword_are_not_opt_outs(phone: Phone, body: str) -> None:
    reply = phone.send(body)
    assert "unsubscribed" not in reply
    assert "1 Local peer support" in phone.send("menu")


def test_when_twilio_confirms_opt_outs_we_stay_silent(tmp_path, database_url, redis_url, redis_client) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url, OPT_OUT_HANDLED_BY="twilio"))
    phone = Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550901")
    phone.send("hi")
    phone.send_silent("STOP")
    phone.send_silent("hi")
    assert "resubscribed" in phone.send("START")


def test_opt_outs_survive_a_restart_and_a_lost_redis(tmp_path, database_url, redis_url, redis_client) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url))
    Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550902").send("STOP")
    redis_client.flushdb()
    restarted = Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550902")
    restarted.send_silent("hello?")


def test_opt_outs_are_stored_as_keyed_hashes(app, phone: Phone) -> None:
    phone.send("STOP")
    engine = app.extensions["helpline_parts"].db_engine
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT person, keyword FROM opt_out")).all()
    assert rows
    digits = phone.number.lstrip("+")
    assert all(digits not in person and digits[-7:] not in person for person, _ in rows)


def test_help_gives_program_opt_out_rates_and_crisis_numbers(phone: Phone) -> None:
    for word in ["HELP", "info"]:
        reply = phone.send(word)
        assert "SMA Healthcare Peer Support Line" in reply
        assert "STOP to opt out" in reply
        assert "Msg&data rates may apply" in reply
        assert "988" in reply and "911" in reply
        assert_hotlines(reply)


def test_texts_read_consent_from_redis_once_its_copy_is_complete(app, client, redis_client) -> None:
    opt_outs = app.extensions["helpline_parts"].helpline.opt_outs
    queries: list[str] = []
    parts = app.extensions["helpline_parts"]
    for engine in {parts.db_engine, parts.request_db_engine}:
        event.listen(engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    asked = lambda: sum("opt_out" in q or "consent" in q for q in queries)  # noqa: E731

    Phone(client, "+13865550904").send("hi")
    opt_outs.wait_for_sync(5)
    assert redis_client.exists("hl:optouts-complete")
    queries.clear()
    phone = Phone(client, "+13865550905")
    phone.send("hi")
    phone.send("1")
    phone.send("volusia")
    assert asked() == 0
    phone.send("STOP")
    queries.clear()
    phone.send_silent("hi")
    phone.send_silent("are you there")
    assert asked() == 0
    assert "resubscribed" in phone.send("START")
    queries.clear()
    phone.send("menu")
    assert asked() == 0


def test_a_lost_copy_is_rebuilt_from_the_database(app, client, redis_client) -> None:
    opted_out = Phone(client, "+13865550906")
    opt_outs = app.extensions["helpline_parts"].helpline.opt_outs
    opted_out.send("STOP")
    opt_outs.wait_for_sync(5)
    redis_client.flushdb()
    Phone(client, "+13865550907").send("hi")
    opt_outs.wait_for_sync(5)
    assert redis_client.exists("hl:optouts-complete")
    assert redis_client.ttl("hl:optouts-complete") > 0
    opted_out.send_silent("hello?")


def test_a_stop_taken_by_one_process_silences_the_others_at_once(
    tmp_path, database_url, redis_url, redis_client
) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url))
    one = Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550903")
    other = Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550903")
    one.send("hi")
    other.send("1")
    other.send("STOP")
    one.send_silent("volusia")
    assert "resubscribed" in one.send("START")
    other.send("volusia")


def test_a_rebuild_that_read_the_database_before_a_start_does_not_undo_it(app, client, redis_client) -> None:
    phone = Phone(client, "+13865550908")
    opt_outs = app.extensions["helpline_parts"].helpline.opt_outs
    phone.send("STOP")
    opt_outs.wait_for_sync(5)
    person = person_key("test-hash-secret", phone.number)
    assert "resubscribed" in phone.send("START")
    # What a rebuild that began before the START read: the STOP still in the database.
    with app.extensions["helpline_parts"].db_sessions() as session, session.begin():
        session.add(OptOut(person=person, keyword="stop"))
    redis_client.delete("hl:optouts-complete")
    assert opt_outs.sync()
    with app.extensions["helpline_parts"].db_sessions() as session, session.begin():
        session.execute(delete(OptOut).where(OptOut.person == person))
    assert "Volusia Recovery Alliance" in phone.send("volusia")
