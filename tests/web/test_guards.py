"""Never twice, never none: re-delivered webhooks and floods."""

from __future__ import annotations

import threading

import redis
from sqlalchemy import event

from bot.config import load_settings
from bot.storage.conversations import PENDING, delivery_key
from bot.web import create_app
from tests.conftest import make_env
from tests.places import shared_places
from tests.twilio_webhooks import Phone, assert_hotlines, message_text, sign, sms_params


def post_signed(client, params: dict[str, str]):
    return client.post("/sms", data=params, headers={"X-Twilio-Signature": sign("http://localhost/sms", params)})


def test_a_redelivered_message_advances_the_conversation_once(phone: Phone) -> None:
    phone.send("menu")
    params = sms_params("3", phone.number)
    first = post_signed(phone.client, params)
    again = post_signed(phone.client, params)
    assert first.status_code == again.status_code == 200
    assert first.data == again.data
    assert "1 12-step and SMART Recovery meetings" in message_text(first.get_data(as_text=True))
    assert "1 Local peer support" in phone.send("back")


def test_simultaneous_copies_get_one_answer(phone: Phone) -> None:
    phone.send("menu")
    params = sms_params("3", phone.number)
    bodies: list[bytes] = []
    threads = [threading.Thread(target=lambda: bodies.append(post_signed(phone.client, params).data)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(bodies) == 4 and len(set(bodies)) == 1
    assert "1 Local peer support" in phone.send("back")


def test_a_copy_that_finds_its_first_still_in_flight_changes_nothing(phone: Phone, redis_client) -> None:
    phone.send("menu")
    params = sms_params("3", phone.number)
    replay = phone.client.application.extensions["helpline_parts"].conversations.replay
    replay.wait = 0.2
    # The first copy has claimed this delivery and is still being answered (it never finishes here).
    claimed = f"hl:replay:{delivery_key('/sms?', params)}"
    redis_client.set(claimed, PENDING)
    copy = post_signed(phone.client, params)
    assert copy.status_code == 200
    assert_hotlines(message_text(copy.get_data(as_text=True)))
    assert "12-step and SMART Recovery meetings" not in copy.get_data(as_text=True)
    # The copy neither moved the conversation on nor kept an answer of its own.
    assert redis_client.get(claimed) == PENDING
    assert "1 12-step and SMART Recovery meetings" in phone.send("3")


def test_a_flood_is_answered_briefly_with_the_hotlines(tmp_path, database_url, redis_url, redis_client) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url, RATE_LIMIT_COUNT="5"))
    client = create_app(settings, redis_client, places=shared_places()).test_client()
    flooder = Phone(client, "+13865550777")
    replies = [flooder.send("volusia") for _ in range(7)]
    assert all("Volusia Recovery Alliance" in r for r in replies[:5])
    for reply in replies[5:]:
        assert reply.startswith("You're sending messages very fast")
        assert "Volusia Recovery Alliance" not in reply
        assert_hotlines(reply)
    other = Phone(client, "+13865550778")
    assert "Volusia Recovery Alliance" in other.send("volusia")


def test_a_crisis_is_answered_even_in_a_flood(tmp_path, database_url, redis_url, redis_client) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url, RATE_LIMIT_COUNT="2"))
    flooder = Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550779")
    for _ in range(3):
        flooder.send("hi")
    reply = flooder.send("I took too many pills")
    assert "call 911 now" in reply


class Sends:
    """Counts what a real Redis connection sends: one send is one round trip (a whole pipeline is one)."""

    count = 0

    def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
        Sends.count += 1
        super().send_packed_command(command, check_health)  # type: ignore[misc]


def counting_client(url: str) -> redis.Redis:
    """A client for `url` (TCP or the embedded server's socket) whose connections count their sends."""
    plain = redis.Redis.from_url(url).connection_pool.connection_class
    return redis.Redis.from_url(url, connection_class=type("Counting", (Sends, plain), {}))


def test_a_text_costs_two_redis_round_trips_and_no_database_query(tmp_path, database_url, redis_url) -> None:
    client = counting_client(redis_url)
    client.flushdb()
    app = create_app(load_settings(make_env(tmp_path, database_url, redis_url)), client, places=shared_places())
    queries: list[str] = []
    parts = app.extensions["helpline_parts"]
    for engine in {parts.db_engine, parts.request_db_engine}:
        event.listen(engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    phone = Phone(app.test_client(), "+13865550421")
    phone.send("hi")
    app.extensions["helpline"].opt_outs.wait_for_sync(5)  # the first text found no opt-out copy, and made one
    for body in ["1", "volusia", "more", "menu"]:
        Sends.count = 0
        queries.clear()
        assert_hotlines(phone.send(body))
        # Claim the delivery and read session, rate count and opt-out copy; write session and answer.
        assert Sends.count == 2, body
        assert queries == [], body
