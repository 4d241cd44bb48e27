"""The phone line: Twilio's Voice webhooks, thin adapters from form fields to `Helpline.converse`.

    POST /voice               a call comes in: the hotlines first, then the main menu
    POST /voice/gather        what the caller keyed or said (or nothing) at a menu
    POST /voice/dial-status   how the transfer to the 24/7 line ended (no answer: the caller hears 988 and SAMHSA)
    POST /voice/status        the call's status callback: an ended call's state is dropped at once

A call is a conversation keyed by its CallSid (hashed, like a number). The caller's number is read from
each request only to decide whether a text is possible and to hand it to the job that sends one.
Unlike /sms these routes are not de-duplicated by their parameters: two silent tries in one call post
identical forms and must both count.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from flask import Blueprint, Response, current_app, request

from bot.config import Settings
from bot.core.engine import Inbound, fallback_reply
from bot.core.identity import person_key
from bot.core.render import text_outcome, texted_list_body, words
from bot.core.reply import Reply, TextedList
from bot.helpline import Helpline, Outcome
from bot.jobs import can_text, enqueue_text, may_send
from bot.storage.conversations import delivery_key
from bot.web.limits import capped
from bot.web.signature import twilio_signed
from bot.web.twiml import MAX_HINTS, CallSettings, answer, voice_twiml
from bot.wiring import Parts

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)

DIAL_STATUSES = {"completed", "answered", "busy", "no-answer", "failed", "canceled"}
CALL_ENDED = {"completed", "busy", "no-answer", "failed", "canceled"}
HINTS_TTL_SECONDS = 300.0
COMMAND_HINTS = ("operator", "repeat", "more time", "main menu", "yes", "no", "español")
COMMAND_HINTS_ES = ("operador", "repetir", "más tiempo", "menú principal", "sí", "no", "English")


def _parts() -> Parts:
    return current_app.extensions["helpline_parts"]


def _helpline() -> Helpline:
    return current_app.extensions["helpline"]


def _call_sid() -> str:
    """The call's id; empty (answered without memory, never under a shared placeholder) if Twilio sent none."""
    return request.form.get("CallSid", "").strip()


@bp.post("/voice")
@twilio_signed
def incoming_call() -> Response:
    """A call comes in: it hears the hotlines, then the main menu."""
    settings = _parts().settings
    inbound = Inbound(channel="voice", event="call", can_text=can_text(settings, request.form.get("From", "")))
    return _answer(_helpline().converse("voice", _call_sid(), inbound))


def _delivery() -> str:
    """The identity of this callback's delivery: a copy Twilio sends again gets the first one's answer."""
    return delivery_key(request.full_path, request.form.to_dict(flat=True))


@bp.post("/voice/gather")
@twilio_signed
def gathered() -> Response:
    """The caller keyed digits, said something, or let the prompt time out."""
    digits = request.form.get("Digits", "").strip()
    limit = current_app.config["HELPLINE_SETTINGS"].max_body_chars
    speech = capped(request.form.get("SpeechResult", ""), limit).strip()
    confidence = _confidence(request.form.get("Confidence")) if speech and not digits else None
    inbound = Inbound(text=speech, digits=digits, channel="voice", confidence=confidence)
    outcome = _helpline().converse("voice", _call_sid(), inbound, _delivery())
    if outcome.degraded and outcome.reply is not None and not (digits or speech) and not outcome.reply.action:
        # Without call state we cannot count silent tries, so silence goes straight to a person.
        outcome = replace(outcome, reply=replace(outcome.reply, action="connect"))
    return _answer(outcome)


@bp.post("/voice/dial-status")
@twilio_signed
def dial_status() -> Response:
    """The transfer to the 24/7 line ended: goodbye after a conversation, the other lines if it failed."""
    status = request.form.get("DialCallStatus", "")
    status = status if status in DIAL_STATUSES else "failed"
    inbound = Inbound(channel="voice", event=f"dial:{status}")
    return _answer(_helpline().converse("voice", _call_sid(), inbound, _delivery()))


@bp.post("/voice/status")
@twilio_signed
def call_status() -> tuple[str, int]:
    """Twilio's call status callback: once a call has ended, its state is dropped rather than left to expire."""
    if request.form.get("CallStatus", "") in CALL_ENDED and _call_sid():
        _helpline().forget("voice", _call_sid())
    return "", 204


def _answer(outcome: Outcome) -> Response:
    """The call's TwiML for `outcome`, once per delivery, committed with what answering it took."""
    return answer(_helpline(), outcome, _call_answer)


def _call_answer(outcome: Outcome) -> Response:
    """TwiML for the engine's reply; a list the caller asked for by text is queued first. A copy of a callback
    still being answered hears every line, and is put through to a person."""
    parts = _parts()
    reply = outcome.reply if outcome.reply is not None else fallback_reply(parts.helpline.context.hotlines)
    if "degraded" in reply.tags or outcome.busy:
        reply = _trouble(reply)
    if outcome.busy:
        return voice_twiml(reply, _call_settings(parts))
    before = ""
    if reply.texted is not None:
        before = text_outcome(_send_list(parts, reply.texted, reply.language), reply.language)
    return voice_twiml(reply, _call_settings(parts), before, outcome.step)


def _trouble(reply: Reply) -> Reply:
    """Something inside failed: say so, read every line, and put the caller through to a person."""
    return replace(reply, notice=words(reply.language)["trouble"], crisis=True, action="connect")


def _send_list(parts: Parts, texted: TextedList, language: str) -> str:
    """Queue the text of what the caller just heard, in the call's language; what to tell them about it
    (a key of `render.TEXT_OUTCOMES`)."""
    settings = parts.settings
    caller = request.form.get("From", "")
    if not _call_sid() or not can_text(settings, caller):
        return "unavailable"
    opt_outs = parts.helpline.opt_outs
    if opt_outs is None or not may_send(opt_outs.is_opted_out, settings.hash_secret, caller):
        return "opted_out"
    body = texted_list_body(texted, parts.helpline.context.hotlines, settings.sms_segment_budget, language)
    # One text per list per call, however often 1 is pressed; the id reveals neither the call nor the number.
    send_id = person_key(settings.hash_secret, f"{_call_sid()}|{texted.key}")
    try:
        return enqueue_text(
            parts.queue,
            send_id=send_id,
            to=caller,
            body=body,
            reply_from=request.form.get("To") or None,
            status_callback=_external_url(settings, "/sms/status"),
        )
    except Exception as exc:  # noqa: BLE001 - Redis down: the caller hears that it failed, the call goes on
        parts.helpline.faults.report("text enqueue", exc)
        return "failed"


def _external_url(settings: Settings, path: str) -> str:
    """The public URL of one of our paths (the one Twilio will call and sign)."""
    base = settings.public_base_url or request.host_url.rstrip("/")
    return f"{base}{path}"


def _confidence(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _call_settings(parts: Parts) -> CallSettings:
    settings = parts.settings
    places = _hints(parts)
    return CallSettings(
        voice=settings.voice_name,
        language=settings.voice_language,
        hotline_number=settings.hotline_number,
        dial_timeout=settings.dial_timeout_seconds,
        hints=(COMMAND_HINTS + places)[:MAX_HINTS],
        voices=_voices(settings),
        hints_by_language={"es": (COMMAND_HINTS_ES + places)[:MAX_HINTS]},
    )


def _voices(settings: Settings) -> dict[str, tuple[str, str]]:
    """The voice and recognition language of each language a call can be in."""
    return {
        "en": (settings.voice_name, settings.voice_language),
        "es": (settings.voice_name_es, settings.voice_language_es),
    }


def _hints(parts: Parts) -> tuple[str, ...]:
    """Place names for speech hints (refreshed every few minutes): the counties the directory lists, then the
    towns of the home states, those in listed counties first (`_call_settings` puts the commands first)."""
    cache = current_app.extensions.setdefault("voice_hints", {"at": 0.0, "hints": ()})
    if time.monotonic() - cache["at"] < HINTS_TTL_SECONDS and cache["hints"]:
        return cache["hints"]
    context = parts.helpline.context
    names: dict[str, None] = {}
    try:
        served: set[str] = set()
        for topic in context.flow.topics:
            served.update(context.directory.counties_served(topic))
        for key in sorted(served):
            county = context.places.counties.get(key)
            if county is not None:
                names[county.name.removesuffix(" County")] = None
        home = set(parts.settings.home_states)
        towns = sorted(
            (t for t in context.places.each_town() if t.state in home),
            key=lambda t: (not any(k in served for k in t.counties), t.name),
        )
        for town in towns:
            names.setdefault(town.name, None)
    except Exception as exc:  # noqa: BLE001 - hints are a nicety; a database outage must not stop the call
        parts.helpline.faults.report("speech hints", exc)
        return cache["hints"]
    cache.update(at=time.monotonic(), hints=tuple(names)[:MAX_HINTS])
    return cache["hints"]


def voice_fallback(parts: Parts) -> Response:
    """The call TwiML when a request failed outright: every line read out, then the 24/7 line."""
    reply = _trouble(fallback_reply(parts.helpline.context.hotlines))
    return voice_twiml(
        reply,
        CallSettings(
            parts.settings.voice_name,
            parts.settings.voice_language,
            parts.settings.hotline_number,
            parts.settings.dial_timeout_seconds,
            voices=_voices(parts.settings),
        ),
    )
