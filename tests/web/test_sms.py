"""The SMS webhook, driven as Twilio drives it: signed form posts in, TwiML `<Message>` out."""

from __future__ import annotations

import time

import pytest

from bot.config import load_settings
from bot.web import create_app
from tests.conftest import make_env
from tests.places import shared_places
from tests.twilio_webhooks import Phone, assert_hotlines, sign, sms_params


def test_texting_volusia_gets_the_recovery_alliance_and_both_hotlines(phone: Phone) -> None:
    reply = phone.send("volusia")
    assert "Volusia Recovery Alliance" in reply
    assert "(386) 777-PEER" in reply
    assert_hotlines(reply)


def test_a_whole_conversation_through_the_menus(phone: Phone) -> None:
    welcome = phone.send("Hi")
    assert "1 Local peer support" in welcome
    assert "5 Talk to someone now" in welcome
    ask = phone.send("1")
    assert "COUNTY" in ask
    results = phone.send("Putnam County")
    assert "Nehemiah Project" in results and "(770) 742-0706" in results
    assert "Recovery Point" in results and "(386) 385-3079" in results
    back = phone.send("BACK")
    assert "COUNTY" in back
    menu = phone.send("menu")
    assert "1 Local peer support" in menu
    for reply in phone.replies:
        assert_hotlines(reply)


def test_zip_code_maps_to_its_county(phone: Phone) -> None:
    reply = phone.send("32114")
    assert "Volusia County, FL" in reply
    assert "Volusia Recovery Alliance" in reply


def test_a_typo_is_forgiven_or_asked_about(phone: Phone) -> None:
    assert "Flagler County CORe" in phone.send("flager")
    question = phone.send("st jon")
    assert "Did you mean St. Johns County, FL?" in question
    assert "Discover & Recover St. Johns County" in phone.send("yes")


def test_a_county_without_listings_offers_the_nearest_one(phone: Phone) -> None:
    reply = phone.send("lake county")
    assert "don't have local peer support listed in Lake County, FL" in reply
    assert "Nearest listed" in reply
    assert_hotlines(reply)


def test_an_unknown_zip_gets_a_way_forward(phone: Phone) -> None:
    reply = phone.send("00000")
    assert "couldn't find ZIP code 00000" in reply
    assert_hotlines(reply)


def test_family_topic_is_kept_for_the_search(phone: Phone) -> None:
    phone.send("menu")
    phone.send("2")
    reply = phone.send("marion")
    assert "Support for family and loved ones in Marion County, FL" in reply
    assert "Marion County Peer Support" in reply
    assert "SAMHSA National Helpline" in reply


def test_help_works_in_every_state_and_keeps_the_place(phone: Phone) -> None:
    phone.send("menu")
    phone.send("3")
    reply = phone.send("HELP")
    assert "Msg&data rates may apply" in reply
    assert "STOP" in reply
    assert "1 12-step and SMART Recovery meetings" in reply


def test_nonsense_gets_a_clear_answer_not_silence(phone: Phone) -> None:
    phone.send("menu")
    reply = phone.send("qwertyuiop zxcv")
    assert "Sorry, I didn't understand that." in reply
    assert "1 Local peer support" in reply
    assert_hotlines(reply)


@pytest.mark.parametrize("body", ["", "   ", "<Response><Say>x</Say></Response>", "\x00\x01", "😀" * 400, "a" * 1600])
def test_odd_bodies_still_get_valid_twiml_with_hotlines(phone: Phone, body: str) -> None:
    reply = phone.send(body)
    assert_hotlines(reply)
    assert len(reply) <= 1600


def test_unsigned_request_is_refused(client) -> None:
    response = client.post("/sms", data=sms_params("volusia", "+13865550199"))
    assert response.status_code == 403


def test_a_tampered_request_is_refused(client) -> None:
    params = sms_params("volusia", "+13865550199")
    signature = sign("http://localhost/sms", params)
    params["Body"] = "flagler"
    response = client.post("/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_signature_with_another_token_is_refused(client) -> None:
    params = sms_params("volusia", "+13865550199")
    response = client.post(
        "/sms", data=params, headers={"X-Twilio-Signature": sign("http://localhost/sms", params, "other")}
    )
    assert response.status_code == 403


def test_behind_a_proxy_the_public_url_is_what_counts(tmp_path, database_url, redis_url, redis_client) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url, PUBLIC_BASE_URL="https://help.example.org"))
    client = create_app(settings, redis_client, places=shared_places()).test_client()
    params = sms_params("volusia", "+13865550123")
    ok = client.post("/sms", data=params, headers={"X-Twilio-Signature": sign("https://help.example.org/sms", params)})
    assert ok.status_code == 200
    internal = client.post("/sms", data=params, headers={"X-Twilio-Signature": sign("http://localhost/sms", params)})
    assert internal.status_code == 403


def test_forwarded_headers_are_honoured_only_when_trusted(tmp_path, database_url, redis_url, redis_client) -> None:
    params = sms_params("volusia", "+13865550124")
    headers = {
        "X-Twilio-Signature": sign("https://help.example.org/sms", params),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "help.example.org",
    }
    trusted = create_app(
        load_settings(make_env(tmp_path, database_url, redis_url, TRUST_PROXY="1")),
        redis_client,
        places=shared_places(),
    )
    assert trusted.test_client().post("/sms", data=params, headers=headers).status_code == 200
    untrusted = create_app(
        load_settings(make_env(tmp_path, database_url, redis_url)),
        redis_client,
        places=shared_places(),
    )
    assert untrusted.test_client().post("/sms", data=params, headers=headers).status_code == 403


def test_an_abandoned_conversation_restarts_with_welcome_back(tmp_path, database_url, redis_url, redis_client) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url, SESSION_TTL_SECONDS="1"))
    phone = Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550155")
    phone.send("menu")
    assert "COUNTY" in phone.send("1")
    time.sleep(2.1)
    reply = phone.send("hello again")
    assert reply.startswith("Welcome back.")
    assert "1 Local peer support" in reply


def test_sessions_are_keyed_by_a_hash_not_the_number(phone: Phone, redis_client) -> None:
    phone.send("volusia")
    keys = [k.decode() for k in redis_client.keys("*")]
    assert keys, "a session should be stored"
    digits = phone.number.lstrip("+")
    for key in keys:
        assert digits not in key and digits[-7:] not in key
        value = redis_client.get(key) or b""
        assert digits.encode() not in value


def test_replies_stay_within_the_segment_budget(phone: Phone) -> None:
    from bot.core.segments import count

    for body in ["hi", "1", "volusia", "menu", "2", "putnam", "menu", "5", "menu", "3", "4", "flagler"]:
        reply = phone.send(body)
        assert count(reply).segments <= 4, (body, count(reply))


def test_messages_without_a_sender_are_answered_but_share_nothing(client) -> None:
    def post(body: str) -> str:
        params = {k: v for k, v in sms_params(body, "+1").items() if k != "From"}
        signature = sign("http://localhost/sms", params)
        response = client.post("/sms", data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "unsubscribed" not in post("STOP")
    assert "1 Local peer support" in post("hi")
    assert "(800) 539-4228" in post("hi")
