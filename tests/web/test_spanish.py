"""Spanish through the real webhooks: the language chosen by the first text or by name, kept for the
conversation and for a returning person, Spanish STOP, and a call in Spanish (voice, speech language)."""

from __future__ import annotations

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.config import load_settings
from bot.web import create_app
from tests.conftest import make_env
from tests.places import shared_places
from tests.twilio_webhooks import Call, Phone, assert_hotlines, spoken

SPANISH_WELCOME = "Hola, le saluda la SMA Healthcare Peer Support Line."
ENGLISH_WELCOME = "Hi, this is the SMA Healthcare Peer Support Line."
SPANISH_FOOTER = (
    "SMA Healthcare 24 horas: (800) 539-4228\nSAMHSA (en español): 1-800-662-HELP (4357)\n"
    "¿En crisis? 988: llame y marque 2, o mande AYUDA. Emergencias: 911"
)


def test_a_first_text_in_spanish_is_answered_in_spanish(phone: Phone) -> None:
    reply = phone.send("buenas, ocupo ayuda para mi papá")
    assert reply.startswith("Escriba su CIUDAD o CONDADO")
    assert "apoyo para familiares y seres queridos" in reply
    assert reply.endswith(SPANISH_FOOTER)
    assert_hotlines(reply)
    results = phone.send("volusia")
    assert results.startswith("Apoyo para familiares y seres queridos en Volusia County, FL:")
    assert "2 Volver al inicio" in results


@pytest.mark.parametrize("first", ["hola", "ok", "AA", "volusia", "1"])
def test_a_short_or_unclear_first_text_stays_in_english_and_says_in_spanish_how_to_switch(
    phone: Phone, first: str
) -> None:
    reply = phone.send(first)
    assert "In crisis? Call or text 988. Emergency: 911" in reply
    assert "Hola, le saluda" not in reply
    if first in ("hola", "ok"):
        assert reply.startswith(ENGLISH_WELCOME) and "Para español, responda ESPAÑOL." in reply
    if first == "AA":  # read as meetings: where?
        assert reply.startswith("Text your TOWN or COUNTY")


def test_switching_back_and_forth_keeps_the_place_in_the_conversation(phone: Phone) -> None:
    phone.send("hi")
    phone.send("1")
    assert "Local peer support in Volusia County, FL:" in phone.send("volusia")
    spanish = phone.send("ESPAÑOL")
    assert spanish.startswith("Apoyo entre pares en Volusia County, FL:")
    assert spanish.endswith(SPANISH_FOOTER)
    assert "1 Buscar otro condado o ZIP" in phone.send("Espanol")
    english = phone.send("english")
    assert english.startswith("Local peer support in Volusia County, FL:")
    assert "1 Search another county or ZIP" in english
    assert "1 Buscar otro condado o ZIP" in phone.send("spanish")
    welcome = phone.send("2")
    assert welcome.startswith(SPANISH_WELCOME) and "For English, reply ENGLISH." in welcome
    assert phone.send("INGLÉS").startswith(ENGLISH_WELCOME)


def test_a_returning_person_is_welcomed_back_in_their_language(app: Flask, phone: Phone, redis_client) -> None:
    phone.send("necesito ayuda")
    phone.send("1")
    helpline = app.extensions["helpline"]
    key = helpline.key_for("sms", phone.number)
    redis_client.delete(f"hl:session:{key}")  # the conversation expired; the "wrote before" marker did not
    assert redis_client.get(f"hl:seen:{key}") == b"es"
    back = phone.send("1")
    assert back.startswith("Gracias por volver.")
    assert "para encontrar apoyo entre pares cerca de usted" in back
    # A clearly English first message after the pause is answered in English.
    redis_client.delete(f"hl:session:{key}")
    assert phone.send("hello, I need help").startswith("Welcome back.")


def test_the_remembered_language_expires_with_the_marker(app: Flask, phone: Phone, redis_client) -> None:
    phone.send("necesito ayuda")
    key = app.extensions["helpline"].key_for("sms", phone.number)
    ttl = redis_client.ttl(f"hl:seen:{key}")
    settings = app.extensions["helpline_parts"].settings
    assert 0 < ttl <= settings.returning_ttl_seconds <= settings.retention_days * 86400
    redis_client.delete(f"hl:session:{key}", f"hl:seen:{key}")
    assert phone.send("1").startswith("Text your TOWN or COUNTY")  # nothing kept: a new conversation, in English


@pytest.mark.parametrize(
    "word", ["PARAR", "Cancelar", "detener", "BAJA", "ya no me manden mensajes", "no me envíen más mensajes"]
)
def test_spanish_stop_words_get_one_spanish_confirmation_then_silence(phone: Phone, word: str) -> None:
    phone.send("hola, necesito ayuda")
    confirmation = phone.send(word)
    assert confirmation.startswith("Usted se dio de baja de SMA Healthcare Peer Support Line")
    assert "responda ALTA" in confirmation
    assert confirmation.endswith(SPANISH_FOOTER)
    phone.send_silent("hola")
    phone.send_silent(word)
    phone.send_silent("inicio")  # a menu word, not a resubscribe word
    welcome = phone.send("ALTA")
    assert welcome.startswith("Se dio de alta de nuevo en SMA Healthcare Peer Support Line.")
    assert SPANISH_WELCOME in welcome


def test_a_spanish_stop_from_an_english_conversation_is_confirmed_in_spanish(phone: Phone) -> None:
    phone.send("hi")
    assert phone.send("parar").startswith("Usted se dio de baja")
    phone.send_silent("hi")
    assert phone.send("START").startswith("You're resubscribed")


def test_stop_in_a_spanish_conversation_is_confirmed_in_spanish(phone: Phone) -> None:
    phone.send("ESPAÑOL")
    assert phone.send("STOP").startswith("Usted se dio de baja")


@pytest.mark.parametrize("body", ["quiero dejar de tomar", "quiero parar de beber", "necesito cancelar una cita"])
def test_a_spanish_need_is_not_an_opt_out(phone: Phone, body: str) -> None:
    reply = phone.send(body)
    assert "se dio de baja" not in reply
    assert "1 Apoyo entre pares" in phone.send("inicio")


def test_default_language_spanish_starts_new_conversations_in_spanish(
    tmp_path, database_url, redis_url, redis_client: redis.Redis
) -> None:
    settings = load_settings(make_env(tmp_path, database_url, redis_url, DEFAULT_LANGUAGE="es"))
    client = create_app(settings, redis_client, places=shared_places()).test_client()
    assert Phone(client, "+13865550771").send("hola").startswith(SPANISH_WELCOME)
    assert Phone(client, "+13865550772").send("hello, I need help").startswith(ENGLISH_WELCOME)
    call = Call(client, "+13865550773")
    assert "Gracias por llamar" in spoken(call.start())


def test_an_unknown_default_language_is_refused(tmp_path, database_url, redis_url) -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="DEFAULT_LANGUAGE"):
        load_settings(make_env(tmp_path, database_url, redis_url, DEFAULT_LANGUAGE="fr"))


# --- calls ------------------------------------------------------------------------------------------------


def says(root) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [((s.text or "").strip(), s.get("voice") or "", s.get("language") or "") for s in root.iter("Say")]


def test_a_caller_presses_8_and_the_call_goes_on_in_spanish(call: Call) -> None:
    first = call.start()
    offer = [s for s in says(first) if s[0] == "Para español, oprima 8 o diga español."]
    assert offer == [("Para español, oprima 8 o diga español.", "Polly.Lupe", "es-US")]
    assert all(voice == "Polly.Joanna" for text, voice, _ in says(first) if text != offer[0][0])
    root = call.press("8")
    gather = root.find("Gather")
    assert gather is not None and gather.get("language") == "es-US"
    assert "español" not in (gather.get("hints") or "")
    assert "operador" in (gather.get("hints") or "")
    lines = says(root)
    assert ("For English, press 8 or say English.", "Polly.Joanna", "en-US") in lines
    assert all(v == "Polly.Lupe" and lang == "es-US" for t, v, lang in lines if not t.startswith("For English"))
    assert "Para apoyo entre pares cerca de usted, oprima 1." in spoken(root)
    call.press("1")
    results = spoken(call.press("32114"))
    assert "Volusia Recovery Alliance: 3 8 6, 7 7 7, 7 3 3 7." in results
    assert "oprima 0, o llame al 8 0 0, 5 3 9, 4 2 2 8." in results
    assert "También puede llamar a SAMHSA (en español) al 8 0 0, 6 6 2, 4 3 5 7." in results


def test_saying_espanol_switches_and_ingles_switches_back(call: Call) -> None:
    call.start()
    assert "Para apoyo entre pares" in spoken(call.say("Español"))
    english = call.say("inglés")
    assert "For local peer support, press 1." in spoken(english)
    assert english.find("Gather").get("language") == "en-US"  # type: ignore[union-attr]


def test_a_spanish_caller_who_presses_0_is_put_through_in_spanish(call: Call) -> None:
    call.start()
    call.press("8")
    root = call.press("0")
    assert "Le estamos comunicando con SMA Healthcare 24 horas." in spoken(root)
    assert root.find("Dial/Number").text == "+18005394228"  # type: ignore[union-attr]


def test_a_spanish_caller_in_danger_hears_every_line_in_spanish(call: Call) -> None:
    call.start()
    call.press("8")
    said = spoken(call.say("quiero morir"))
    assert "Si es una emergencia, cuelgue y llame al 9 1 1." in said
    assert "llamar al 9 8 8 y oprimir 2 para español" in said
    assert "8 0 0, 5 3 9, 4 2 2 8" in said and "8 0 0, 6 6 2, 4 3 5 7" in said


def test_a_spanish_caller_asks_for_the_list_by_text_and_it_is_queued_in_spanish(
    call: Call, client: FlaskClient, redis_client: redis.Redis
) -> None:
    from bot.jobs import text_queue

    call.start()
    call.press("8")
    call.press("1")
    call.press("32114")
    said = spoken(call.press("1"))
    assert said.startswith("Le estoy mandando esta lista por mensaje de texto al número desde el que llama.")
    jobs = text_queue(redis_client).jobs
    assert len(jobs) == 1
    body = jobs[0].kwargs["body"]
    assert body.startswith("La lista de su llamada a la SMA Healthcare Peer Support Line:\nApoyo entre pares en")
    assert "- Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)" in body
    assert body.endswith(SPANISH_FOOTER)
    assert spoken(call.press("1")).startswith("Esta lista ya va en camino por mensaje de texto.")
