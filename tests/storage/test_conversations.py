"""The conversation store on a real Redis: what `open` reads and `commit` writes for one message."""

from __future__ import annotations

import redis

from bot.core.session import Session
from bot.storage.conversations import PENDING, ConversationStore, RateLimit, Replay, SessionKeys


def store(client: redis.Redis, limit: int = 0, wait: float = 0.2) -> ConversationStore:
    return ConversationStore(client, SessionKeys(60, 600), RateLimit(limit, 60), Replay(ttl=60, wait=wait))


def test_a_committed_session_is_what_the_next_message_opens(redis_client: redis.Redis) -> None:
    conversations = store(redis_client)
    first = conversations.open("sms:abc", "abc")
    assert (first.session, first.returning) == (None, False)
    conversations.commit("sms:abc", Session(flow="main", state="programs", language="es"), None, None)
    again = conversations.open("sms:abc", "abc")
    assert again.session is not None and again.session.state == "programs"
    assert again.returning and again.language == "es"


def test_once_a_session_expires_the_marker_still_says_they_wrote_before(redis_client: redis.Redis) -> None:
    conversations = store(redis_client)
    conversations.commit("sms:abc", Session(flow="main", state="programs", language="es"), None, None)
    redis_client.delete("hl:session:sms:abc")
    opened = conversations.open("sms:abc", "abc")
    assert opened.session is None and opened.returning and opened.language == "es"


def test_a_call_leaves_no_wrote_before_marker(redis_client: redis.Redis) -> None:
    conversations = store(redis_client)
    conversations.commit("voice:call", Session(flow="main", state="welcome"), None, None)
    assert redis_client.exists("hl:seen:voice:call") == 0


def test_the_second_copy_of_a_delivery_gets_the_first_ones_answer(redis_client: redis.Redis) -> None:
    conversations = store(redis_client)
    first = conversations.open("sms:abc", "abc", delivery="d1")
    assert first.claimed == "d1" and not first.duplicate
    copy = conversations.open("sms:abc", "abc", delivery="d1")
    assert copy.duplicate and copy.session is None
    assert conversations.first_answer("d1") is None  # the first is still being answered: not in time
    conversations.commit("sms:abc", Session(flow="main", state="welcome"), "d1", b"<Response/>")
    assert conversations.first_answer("d1") == b"<Response/>"


def test_a_released_claim_lets_a_redelivery_be_answered_afresh(redis_client: redis.Redis) -> None:
    conversations = store(redis_client)
    conversations.open("sms:abc", "abc", delivery="d1")
    assert redis_client.get("hl:replay:d1") == PENDING
    conversations.release("d1")
    assert not conversations.open("sms:abc", "abc", delivery="d1").duplicate


def test_texts_are_counted_against_the_rate_limit_and_calls_are_not(redis_client: redis.Redis) -> None:
    conversations = store(redis_client, limit=2)
    assert [conversations.open("sms:abc", "abc").over_limit for _ in range(3)] == [False, False, True]
    assert not any(conversations.open("voice:call").over_limit for _ in range(3))


def test_a_limit_of_zero_counts_nothing(redis_client: redis.Redis) -> None:
    conversations = store(redis_client, limit=0)
    for _ in range(3):
        assert not conversations.open("sms:abc", "abc").over_limit
    assert not redis_client.keys("hl:rate:*")


def test_forget_drops_the_session_and_the_marker(redis_client: redis.Redis) -> None:
    conversations = store(redis_client)
    conversations.save("sms:abc", Session(flow="main", state="welcome"))
    conversations.forget("sms:abc")
    assert conversations.open("sms:abc").returning is False
