"""The phone line, driven as Twilio drives it: signed voice webhooks in, TwiML verbs out (read with XPath)."""

from __future__ import annotations

import json
import logging
import zlib
from xml.etree.ElementTree import Element, tostring

import pytest
import redis
from flask.testing import FlaskClient
from rq.serializers import JSONSerializer

from bot.config import load_settings
from bot.jobs import text_queue
from bot.storage.redis_server import client_for
from bot.web import create_app
from tests.conftest import make_env
from tests.places import shared_places
from tests.twilio_webhooks import ACCOUNT_SID, Call, Phone, call_params, sign, spoken, twiml

HOTLINE_DIGITS = "8 0 0, 5 3 9, 4 2 2 8"
SAMHSA_DIGITS = "8 0 0, 6 6 2, 4 3 5 7"
VOLUSIA_ALLIANCE_DIGITS = "3 8 6, 7 7 7, 7 3 3 7"


def gather(root: Element) -> Element:
    """The one `<Gather>` of a reply that waits for the caller, checked for what every menu needs."""
    gathers = root.findall("Gather")
    assert len(gathers) == 1, spoken(root)
    g = gathers[0]
    assert g.get("input") == "dtmf speech"
    assert g.get("action", "").startswith("/voice/gather?step=") and g.get("method") == "POST"
    assert g.get("actionOnEmptyResult") == "true"
    assert {child.tag for child in g} == {"Say"}
    assert root.find("Dial") is None and root.find("Hangup") is None
    return g


def dialled(root: Element) -> str:
    """The number a reply puts the caller through to (asserting it does, and how the outcome is heard)."""
    assert root.find("Gather") is None, spoken(root)
    dials = root.findall("Dial")
    assert len(dials) == 1, spoken(root)
    assert dials[0].get("action", "").startswith("/voice/dial-status?step=") and dials[0].get("method") == "POST"
    numbers = dials[0].findall("Number")
    assert len(numbers) == 1
    return numbers[0].text or ""


def reach_volusia_results(call: Call) -> Element:
    call.start()
    call.press("1")
    return call.press("32114")


# --- the first thing a caller hears ------------------------------------------------------------------


def test_a_call_hears_911_988_and_both_lines_before_the_menu(call: Call) -> None:
    root = call.start()
    g = gather(root)
    said = spoken(root)
    menu_at = said.index("For local peer support, press 1.")
    for line in ("call 9 1 1", "call or text 9 8 8", HOTLINE_DIGITS, SAMHSA_DIGITS):
        assert 0 <= said.index(line) < menu_at, line
    assert said.startswith("Welcome to the SMA Healthcare Peer Support Line.")
    assert g.get("numDigits") == "1"
    assert "Volusia" in (g.get("hints") or "")


def test_the_main_menu_offers_at_most_four_numbered_options_and_0_for_a_person(call: Call) -> None:
    said = spoken(call.start())
    assert [f"press {n}." in said for n in "1234"] == [True] * 4
    assert "press 5" not in said  # "Talk to someone now" is option 5 only in texts; on a call it is 0
    assert "press 0" in said and "press star" in said


# --- reaching the Volusia resources --------------------------------------------------------------------


def test_a_zip_code_keyed_in_reaches_the_volusia_resources(call: Call) -> None:
    call.start()
    prompt = call.press("1")
    place = gather(prompt)
    assert place.get("finishOnKey") == "#" and place.get("numDigits") is None
    assert "enter your 5 digit ZIP code followed by the pound key" in spoken(prompt)
    root = call.press("32114")
    g = gather(root)
    said = spoken(root)
    assert "Here is local peer support in Volusia County, Florida." in said
    assert f"Volusia Recovery Alliance: {VOLUSIA_ALLIANCE_DIGITS}." in said
    assert "To get this list by text, press 1. To hear it again, press 2." in said
    assert "press 0" in said and SAMHSA_DIGITS in said
    assert g.get("numDigits") == "1"


def test_saying_volusia_reaches_the_same_resources(call: Call) -> None:
    call.start()
    call.press("1")
    said = spoken(call.say("Volusia.", confidence="0.87"))
    assert f"Volusia Recovery Alliance: {VOLUSIA_ALLIANCE_DIGITS}." in said


def test_a_county_can_be_said_right_at_the_main_menu(call: Call) -> None:
    call.start()
    assert "Volusia Recovery Alliance" in spoken(call.say("Volusia County"))


def test_a_menu_choice_can_be_said_instead_of_pressed(call: Call) -> None:
    call.start()
    said = spoken(call.say("Two."))
    assert "say the name of your county" in said
    assert "Here is support for family and loved ones in Putnam County, Florida" in spoken(call.say("Putnam"))


def test_spoken_zip_digits_are_read_as_a_zip(call: Call) -> None:
    call.start()
    call.press("1")
    assert "Volusia Recovery Alliance" in spoken(call.say("3 2 1 1 4"))


def test_a_doubtful_recognition_is_confirmed_before_it_is_used(call: Call) -> None:
    call.start()
    call.press("1")
    question = call.say("Flagler.", confidence="0.21")
    assert "Did you mean Flagler County, Florida?" in spoken(question)
    gather(question)
    assert "Flagler County CORe: 8 7 7, 3 9 3, 2 6 7 3." in spoken(call.press("1"))


def test_no_to_a_did_you_mean_is_2_on_the_keypad(call: Call) -> None:
    call.start()
    call.press("1")
    call.say("Flagler.", confidence="0.21")
    assert "say the name of your county" in spoken(call.press("2"))


def test_an_unknown_zip_is_read_back_digit_by_digit(call: Call) -> None:
    call.start()
    call.press("1")
    assert "I couldn't find ZIP code 0 0 0 0 0." in spoken(call.press("00000"))


def test_hear_it_again_and_star_repeat_the_list(call: Call) -> None:
    first = spoken(reach_volusia_results(call))
    again = spoken(call.press("2"))
    assert f"Volusia Recovery Alliance: {VOLUSIA_ALLIANCE_DIGITS}." in again and "Sorry" not in again
    assert spoken(call.press("*")) == first


def test_another_county_and_the_main_menu_from_the_results(call: Call) -> None:
    reach_volusia_results(call)
    assert "say the name of your county" in spoken(call.press("3"))
    call.say("Marion")
    assert "For local peer support, press 1." in spoken(call.press("4"))


# --- a person, at any point -------------------------------------------------------------------------


@pytest.mark.parametrize("keys_before", [[], ["1"], ["1", "32114"], ["3"]])
def test_0_at_any_point_dials_the_24_7_line(call: Call, keys_before: list[str]) -> None:
    call.start()
    for keys in keys_before:
        gather(call.press(keys))
    root = call.press("0")
    assert dialled(root) == "+18005394228"
    assert "Connecting you to the SMA Healthcare twenty-four seven line" in spoken(root)


@pytest.mark.parametrize("words", ["Operator.", "I want to talk to someone.", "Can I speak to a person?"])
def test_asking_for_a_person_by_voice_dials_the_24_7_line(call: Call, words: str) -> None:
    call.start()
    call.press("1")
    assert dialled(call.say(words)) == "+18005394228"


def test_a_transfer_that_is_not_answered_tells_about_988_and_samhsa_and_keeps_the_call(call: Call) -> None:
    reach_volusia_results(call)
    call.press("0")
    root = call.dial_ended("no-answer")
    said = spoken(root)
    assert said.startswith("We couldn't connect your call just now.")
    assert "call or text 9 8 8" in said and SAMHSA_DIGITS in said and HOTLINE_DIGITS in said
    gather(root)
    assert dialled(call.press("0")) == "+18005394228"  # the caller may try again


@pytest.mark.parametrize("status", ["busy", "failed", "canceled"])
def test_every_failed_transfer_is_answered_with_the_other_lines(call: Call, status: str) -> None:
    call.start()
    call.press("0")
    root = call.dial_ended(status)
    gather(root)
    assert "call or text 9 8 8" in spoken(root)


def test_after_a_conversation_on_the_24_7_line_the_call_ends_politely(call: Call) -> None:
    call.start()
    call.press("0")
    root = call.dial_ended("completed", duration="312")
    assert root.find("Hangup") is not None and root.find("Gather") is None
    said = spoken(root)
    assert "Thank you for calling" in said and HOTLINE_DIGITS in said and SAMHSA_DIGITS in said


def test_transfers_stop_after_three_failures_but_the_lines_are_still_read(call: Call) -> None:
    call.start()
    for _ in range(3):
        dialled(call.press("0"))
        call.dial_ended("no-answer")
    root = call.press("0")
    gather(root)
    assert "We still can't connect your call." in spoken(root) and SAMHSA_DIGITS in spoken(root)


# --- silence and mistakes -----------------------------------------------------------------------------


def test_two_silent_tries_put_the_caller_through_to_the_24_7_line(call: Call) -> None:
    call.start()
    first = call.silence()
    said = spoken(first)
    assert said.startswith("Sorry, I didn't hear anything.")
    assert "If you need more time, press 9." in said and "press star" in said
    gather(first)
    second = call.silence()
    assert "Let me connect you with someone who can help." in spoken(second)
    assert dialled(second) == "+18005394228"


def test_two_wrong_keys_put_the_caller_through_too(call: Call) -> None:
    call.start()
    call.press("1")
    assert "I couldn't find that county" in spoken(call.say("the moon"))
    assert dialled(call.press("7")) == "+18005394228"


def test_a_good_choice_in_between_starts_the_count_again(call: Call) -> None:
    call.start()
    call.silence()
    call.press("1")
    root = call.silence()
    gather(root)
    assert "If you need more time, press 9." in spoken(root)


def test_9_gives_more_time_without_counting_a_miss(call: Call) -> None:
    call.start()
    call.silence()
    root = call.press("9")
    g = gather(root)
    assert int(g.get("timeout") or 0) >= 20
    assert spoken(root).startswith("Take your time.")
    gather(call.silence())  # the wait reset the count: this is the first miss again


def test_after_a_failed_transfer_silence_ends_the_call_with_every_line(call: Call) -> None:
    call.start()
    call.press("0")
    call.dial_ended("no-answer")
    call.silence()
    root = call.silence()
    assert root.find("Hangup") is not None and root.find("Dial") is None
    assert "call or text 9 8 8" in spoken(root) and SAMHSA_DIGITS in spoken(root)


# --- every answer, whatever happens ---------------------------------------------------------------------


def test_every_answer_of_a_long_call_carries_the_24_7_line_and_samhsa(call: Call) -> None:
    steps = [
        call.start,
        lambda: call.press("1"),
        lambda: call.say("Volusia"),
        lambda: call.press("2"),
        lambda: call.press("*"),
        lambda: call.press("9"),
        call.silence,
        lambda: call.press("4"),
        lambda: call.press("3"),
        lambda: call.press("2"),
        lambda: call.say("lake county"),
        lambda: call.say("help"),
        lambda: call.say("back"),
        lambda: call.press("0"),
        lambda: call.dial_ended("no-answer"),
    ]
    for act in steps:
        root = act()
        said = spoken(root)
        if root.find("Dial") is not None:
            assert dialled(root) == "+18005394228"
        else:
            assert ("press 0" in said or HOTLINE_DIGITS in said) and SAMHSA_DIGITS in said, said


def test_an_internal_failure_still_reads_every_line_and_puts_the_caller_through(
    tmp_path, redis_url: str, redis_client: redis.Redis
) -> None:
    broken_db = f"sqlite:///{tmp_path / 'missing' / 'none.sqlite3'}"
    settings = load_settings(make_env(tmp_path, broken_db, redis_url))
    call = Call(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550177")
    gather(call.start())
    call.press("1")
    root = call.say("Volusia")
    assert dialled(root) == "+18005394228"
    said = spoken(root)
    assert said.startswith("Sorry, something went wrong on our side.")
    assert HOTLINE_DIGITS in said and SAMHSA_DIGITS in said and "9 8 8" in said


def test_without_redis_a_call_still_works_and_silence_goes_to_a_person(tmp_path, database_url: str) -> None:
    dead = client_for("redis://127.0.0.1:1/0")  # nothing listens there
    settings = load_settings(make_env(tmp_path, database_url, "redis://127.0.0.1:1/0"))
    call = Call(create_app(settings, dead, places=shared_places()).test_client(), "+13865550178")
    assert SAMHSA_DIGITS in spoken(call.start())
    assert "Volusia Recovery Alliance" in spoken(call.say("Volusia"))
    assert dialled(call.silence()) == "+18005394228"


# --- text me the list (the web side: queued, once) ------------------------------------------------------


def test_pressing_1_queues_the_list_as_one_text_for_this_caller(call: Call, redis_client: redis.Redis) -> None:
    reach_volusia_results(call)
    root = call.press("1")
    gather(root)
    said = spoken(root)
    assert said.startswith("I'm sending this list by text to the number you're calling from.")
    assert "To hear it again, press 2." in said
    queue = text_queue(redis_client)
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.kwargs["to"] == call.caller
    assert "Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)" in job.kwargs["body"]
    assert "(800) 539-4228" in job.kwargs["body"] and "1-800-662-HELP (4357)" in job.kwargs["body"]
    assert job.kwargs["reply_from"] == "+13865550100"
    assert job.kwargs["status_callback"] == "http://localhost/sms/status"
    assert job.description == "send a resource list by text" and job.result_ttl == 60
    assert call.caller not in job.id
    again = spoken(call.press("1"))
    assert again.startswith("This list is already on its way to you by text.")
    assert queue.count == 1


def test_a_caller_without_caller_id_is_not_offered_a_text(client: FlaskClient, redis_client: redis.Redis) -> None:
    call = Call(client, "+266696687")  # how Twilio shows a withheld number
    said = spoken(reach_volusia_results(call))
    assert "by text" not in said and "To hear it again, press 2." in said
    assert "Sorry, I didn't understand that." in spoken(call.press("1"))
    assert text_queue(redis_client).count == 0


def test_without_rest_credentials_no_text_is_offered(tmp_path, database_url, redis_url, redis_client) -> None:
    env = make_env(tmp_path, database_url, redis_url)
    del env["TWILIO_ACCOUNT_SID"]
    call = Call(create_app(load_settings(env), redis_client, places=shared_places()).test_client(), "+13865550179")
    assert "by text" not in spoken(reach_volusia_results(call))


# --- state, privacy, signatures --------------------------------------------------------------------------


def test_call_state_is_keyed_by_a_hash_and_dropped_when_the_call_ends(call: Call, redis_client: redis.Redis) -> None:
    reach_volusia_results(call)
    call.silence()
    sessions = [k for k in redis_client.keys("hl:session:voice:*")]
    assert len(sessions) == 1
    assert redis_client.keys("hl:seen:voice:*") == []  # "welcome back" is for texts; a CallSid never returns
    stored = json.loads(redis_client.get(sessions[0]) or b"{}")
    assert stored["state"] == "results" and stored["misses"] == 1
    for key in redis_client.keys("*"):
        value = redis_client.get(key) if redis_client.type(key) == b"string" else b""
        for secret in (call.sid, call.caller, call.caller.lstrip("+")):
            assert secret.encode() not in key and secret.encode() not in (value or b"")
    assert call.hang_up() == 204
    assert redis_client.keys("hl:session:voice:*") == []


def test_logs_never_hold_the_callers_number(call: Call, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    reach_volusia_results(call)
    call.press("1")
    call.press("0")
    call.dial_ended("no-answer")
    call.hang_up()
    assert caplog.records, "the call should have logged something"
    for record in caplog.records:
        assert call.caller[2:] not in record.getMessage()


@pytest.mark.parametrize("path", ["/voice", "/voice/gather", "/voice/dial-status", "/voice/status", "/sms/status"])
def test_unsigned_or_tampered_webhooks_are_refused(client: FlaskClient, path: str) -> None:
    params = call_params("CA" + "1" * 32, "+13865550180")
    assert client.post(path, data=params).status_code == 403
    signature = sign(f"http://localhost{path}", params)
    tampered = {**params, "Digits": "0"}
    assert client.post(path, data=tampered, headers={"X-Twilio-Signature": signature}).status_code == 403


def test_the_signature_covers_the_query_string(client: FlaskClient) -> None:
    params = call_params("CA" + "2" * 32, "+13865550181")
    path = "/voice/gather?attempt=2"
    ok = client.post(path, data=params, headers={"X-Twilio-Signature": sign(f"http://localhost{path}", params)})
    assert ok.status_code == 200
    without = client.post(
        path, data=params, headers={"X-Twilio-Signature": sign("http://localhost/voice/gather", params)}
    )
    assert without.status_code == 403


def test_delivery_statuses_are_kept_by_message_sid_only(client: FlaskClient, redis_client: redis.Redis) -> None:
    from bot.storage.outbox import delivery_status

    def status(value: str, code: str = "") -> int:
        params = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "MessageSid": "SM" + "3" * 32,
            "SmsSid": "SM" + "3" * 32,
            "MessageStatus": value,
            "SmsStatus": value,
            "To": "+13865550182",
            "From": "+13865550100",
            "ErrorCode": code,
        }
        signature = sign("http://localhost/sms/status", params)
        return client.post("/sms/status", data=params, headers={"X-Twilio-Signature": signature}).status_code

    assert status("sent") == 204
    assert status("delivered") == 204
    assert status("sent") == 204  # late and out of order: must not undo "delivered"
    assert delivery_status(redis_client, "SM" + "3" * 32) == {"status": "delivered", "error_code": None}
    assert [
        k for k in redis_client.keys("*") if b"3865550182" in k or b"3865550182" in (redis_client.get(k) or b"")
    ] == []


def test_the_job_payload_is_json(call: Call, redis_client: redis.Redis) -> None:
    reach_volusia_results(call)
    call.press("1")
    job = text_queue(redis_client).jobs[0]
    raw = redis_client.hget(job.key, "data")
    assert raw is not None
    assert JSONSerializer.loads(zlib.decompress(raw))[3]["body"].startswith("The list from your call")  # not pickle


# --- danger named on a call; a quick caller -----------------------------------------------------------


def test_danger_said_on_a_call_is_answered_first_and_yes_puts_the_caller_through(call: Call) -> None:
    call.start()
    call.press("1")
    root = call.say("I want to kill myself")
    gather(root)
    said = spoken(root)
    assert "988" in said or "9 8 8" in said
    assert "press 0 or say yes" in said and HOTLINE_DIGITS in said
    assert dialled(call.say("Yes.")) == "+18005394228"


def test_after_a_danger_answer_the_call_goes_on_where_it_was(call: Call) -> None:
    call.start()
    call.press("1")
    call.say("I want to kill myself")
    assert "Volusia Recovery Alliance" in spoken(call.say("Volusia"))


def test_a_quick_caller_is_never_told_to_slow_down(call: Call) -> None:
    call.start()
    for _ in range(12):
        call.press("1")
        call.press("*")
    said = spoken(call.press("*"))
    assert "very fast" not in said and "say the name of your county" in said


def test_a_request_without_a_call_sid_shares_no_state(client: FlaskClient, redis_client: redis.Redis) -> None:
    params = {k: v for k, v in call_params("", "+13865550183").items() if k != "CallSid"}
    headers = {"X-Twilio-Signature": sign("http://localhost/voice/gather", {**params, "Digits": "1"})}
    root = twiml(client.post("/voice/gather", data={**params, "Digits": "1"}, headers=headers).get_data(as_text=True))
    assert "say the name of your county" in spoken(root)
    assert redis_client.keys("hl:session:*") == []


def test_a_caller_who_opted_out_of_texts_is_told_and_nothing_is_queued(
    call: Call, client: FlaskClient, redis_client: redis.Redis
) -> None:
    Phone(client, call.caller).send("STOP")
    reach_volusia_results(call)
    said = spoken(call.press("1"))
    assert "asked not to get texts from us" in said
    assert text_queue(redis_client).count == 0


def test_a_redelivered_keypress_is_answered_once(call: Call) -> None:
    call.start()
    url = call.gather_url
    first = call.press("1")
    call.gather_url = url
    again = call.press("1")
    assert tostring(first) == tostring(again)
    assert "Volusia Recovery Alliance" in spoken(call.say("Volusia"))
