"""Sending a text once: the job's logic against a real Redis and the real `twilio` client on a fake Twilio API.

These run `bot.jobs.deliver` in the test process (so retries need no waiting); tests/jobs/test_worker.py runs
the same job through real `helpline worker` processes, killed and restarted.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import redis

from bot.config import Settings, load_settings
from bot.jobs import TransientSendError, deliver, twilio_client
from bot.storage.outbox import Outbox
from tests.conftest import make_env
from tests.fake_twilio import FakeTwilio

CALLER = "+13865550190"
BODY = "The list from your call to the SMA Healthcare Peer Support Line:\nLocal peer support in Volusia County, FL:"


@pytest.fixture
def job_settings(tmp_path: Path, database_url: str, redis_url: str, fake_twilio: FakeTwilio) -> Settings:
    env = make_env(
        tmp_path,
        database_url,
        redis_url,
        TWILIO_API_BASE_URL=fake_twilio.base_url,
        TWILIO_FROM_NUMBER="+13865550100",
        TWILIO_HTTP_TIMEOUT_SECONDS="1",
        TEXT_RETRY_DELAYS="0,0,0",
    )
    return load_settings(env)


def send(settings: Settings, connection: redis.Redis, send_id: str = "a1b2c3d4e5f6", **overrides: str) -> dict:
    args = {"to": CALLER, "body": BODY, "status_callback": "https://help.example.org/sms/status", **overrides}
    return deliver(settings, connection, twilio_client(settings), send_id=send_id, sleep=lambda _: None, **args)


def test_a_text_is_sent_once_to_the_caller_with_the_body(job_settings, redis_client, fake_twilio) -> None:
    result = send(job_settings, redis_client)
    assert result["status"] == "sent" and result["sid"].startswith("SM")
    [message] = fake_twilio.messages
    assert (message["to"], message["from"], message["body"]) == (CALLER, "+13865550100", BODY)
    assert message["status_callback"] == "https://help.example.org/sms/status"
    assert Outbox(redis_client, "a1b2c3d4e5f6").read().sid == result["sid"]


def test_running_the_same_job_again_sends_nothing(job_settings, redis_client, fake_twilio) -> None:
    first = send(job_settings, redis_client)
    second = send(job_settings, redis_client)
    assert second == first
    assert len(fake_twilio.posts()) == 1


def test_a_messaging_service_sends_instead_of_a_number(job_settings, redis_client, fake_twilio) -> None:
    settings = job_settings.with_overrides(twilio_messaging_service_sid="MG" + "0" * 32)
    send(settings, redis_client)
    [post] = fake_twilio.posts()
    assert post.form["MessagingServiceSid"] == "MG" + "0" * 32 and "From" not in post.form


@pytest.mark.parametrize("trouble", [("500",), ("429",), ("503", "429")])
def test_transient_errors_are_retried_and_still_send_once(job_settings, redis_client, fake_twilio, trouble) -> None:
    fake_twilio.plan(*trouble)
    assert send(job_settings, redis_client)["status"] == "sent"
    assert len(fake_twilio.messages) == 1
    assert len(fake_twilio.posts()) == len(trouble) + 1
    # After each failed attempt Twilio might have taken the message anyway: the next one looked first.
    assert len(fake_twilio.lists()) == len(trouble)


@pytest.mark.parametrize("code", ["21610", "21211", "21614"])
def test_a_permanent_refusal_is_never_retried(job_settings, redis_client, fake_twilio, code) -> None:
    fake_twilio.plan(code)
    result = send(job_settings, redis_client)
    assert result == {"status": "rejected", "code": int(code)}
    assert send(job_settings, redis_client) == result
    assert len(fake_twilio.posts()) == 1 and fake_twilio.messages == []


def test_when_every_attempt_fails_the_job_fails_for_rq_to_retry_later(job_settings, redis_client, fake_twilio) -> None:
    fake_twilio.plan("500", "500", "500", "500")
    with pytest.raises(TransientSendError) as failed:
        send(job_settings, redis_client)
    assert CALLER[2:] not in str(failed.value)
    assert Outbox(redis_client, "a1b2c3d4e5f6").read().state == "sending"
    assert send(job_settings, redis_client)["status"] == "sent"  # rq's retry, later
    assert len(fake_twilio.messages) == 1


def test_twilio_took_it_but_the_answer_was_lost_so_it_is_not_sent_again(
    job_settings, redis_client, fake_twilio
) -> None:
    fake_twilio.plan("accept-stall")  # accepted, then no answer within the client's 1 second timeout
    result = send(job_settings, redis_client)
    fake_twilio.release()
    assert result["status"] == "sent"
    assert result["sid"] == fake_twilio.messages[0]["sid"]
    assert len(fake_twilio.messages) == 1 and len(fake_twilio.posts()) == 1
    assert len(fake_twilio.lists()) == 1


def test_an_unreachable_api_is_a_transient_failure(job_settings, redis_client, fake_twilio) -> None:
    fake_twilio.stop()
    with pytest.raises(TransientSendError, match="could not reach Twilio"):
        send(job_settings, redis_client)


def test_another_live_attempt_holding_the_lock_means_no_second_send(job_settings, redis_client, fake_twilio) -> None:
    settings = job_settings.with_overrides(text_retry_delays=())
    held = Outbox(redis_client, "a1b2c3d4e5f6").lock(30)
    assert held.acquire()
    with pytest.raises(TransientSendError, match="another attempt"):
        send(settings, redis_client)
    assert fake_twilio.requests == []
    held.release()


def test_the_number_is_never_logged(job_settings, redis_client, fake_twilio, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    fake_twilio.plan("500", "21610")
    send(job_settings, redis_client, send_id="x1")
    send(job_settings, redis_client, send_id="x2")
    assert caplog.records
    for record in caplog.records:
        assert CALLER[2:] not in record.getMessage() and "3865550190" not in str(record.args)


def test_a_number_that_opted_out_after_asking_is_not_texted(job_settings, redis_client, fake_twilio) -> None:
    from bot.core.identity import person_key
    from bot.storage.db import make_engine, make_session_factory
    from bot.storage.opt_outs import OptOutStore

    store = OptOutStore(make_session_factory(make_engine(job_settings.database_url)))
    store.opt_out(person_key(job_settings.hash_secret, CALLER), "stop")
    try:
        result = send(job_settings, redis_client, send_id="optedout01")
    finally:
        store.opt_in(person_key(job_settings.hash_secret, CALLER))
    assert result == {"status": "withheld"}
    assert fake_twilio.posts() == []
