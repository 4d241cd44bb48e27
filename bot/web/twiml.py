"""The only place TwiML is made and sent: a `Reply` becomes a text's `<Message>` or a call's voice verbs.

On a call every reply that waits for the caller is one `<Gather input="dtmf speech">` (keys or words, with
the county names as speech hints) that always reports back, even when it heard nothing; a reply that puts
the caller through is `<Dial>` to the 24/7 line, whose action URL hears how that went. Each `<Say>` has the
voice of its language (a Spanish call is spoken and recognised in es-US).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Response
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from bot.core.render import sms_body, voice_parts
from bot.core.reply import Reply
from bot.helpline import Helpline, Outcome

TWIML_MIMETYPE = "application/xml"


def xml_response(twiml: object) -> Response:
    """Wrap a twilio TwiML object as an HTTP 200 XML response."""
    return Response(str(twiml), status=200, mimetype=TWIML_MIMETYPE)


def answer(helpline: Helpline, outcome: Outcome, render: Callable[[Outcome], Response]) -> Response:
    """`render(outcome)`, then the session and the answer are committed (one write); a redelivered copy gets
    the first copy's TwiML as it was sent."""
    if outcome.replayed is not None:
        return Response(outcome.replayed, status=200, mimetype=TWIML_MIMETYPE)
    try:
        response = render(outcome)
    except BaseException:
        helpline.release(outcome)
        raise
    helpline.commit(outcome, response.get_data())
    return response


def sms_twiml(reply: Reply) -> Response:
    """One `<Message>` with the reply's text, hotlines included."""
    response = MessagingResponse()
    response.message(sms_body(reply))
    return xml_response(response)


def empty_twiml() -> Response:
    """`<Response/>`: Twilio sends nothing."""
    return xml_response(MessagingResponse())


GATHER_URL = "/voice/gather"
DIAL_STATUS_URL = "/voice/dial-status"
CHOICE_TIMEOUT_SECONDS = 6
PLACE_TIMEOUT_SECONDS = 8
WAIT_TIMEOUT_SECONDS = 30
MAX_HINTS = 500
"""Twilio takes up to 500 hints, each up to 100 characters (error 13330 beyond that)."""


@dataclass(frozen=True)
class CallSettings:
    """What the call TwiML needs besides the reply: the voice, the line to put callers through to, hints."""

    voice: str
    language: str
    hotline_number: str
    dial_timeout: int
    hints: tuple[str, ...] = ()
    voices: dict[str, tuple[str, str]] = field(default_factory=dict)
    """By the bot's language ("es"): the voice and the speech language (`Polly.Lupe`, `es-US`)."""
    hints_by_language: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def voice_for(self, language: str) -> tuple[str, str]:
        """The `<Say>` voice and the recognition language for a reply in `language`."""
        return self.voices.get(language, (self.voice, self.language))


def voice_twiml(reply: Reply, call: CallSettings, before: str = "", step: int = 0) -> Response:
    """The verbs for one call reply: say it, then listen (Gather), put through (Dial) or hang up.

    Callback URLs carry the conversation's `step`, so a retried delivery (same step) can be told apart from
    a second, identical-looking answer (two silent tries) and answered once.
    """
    response = VoiceResponse()
    gather_url, dial_url = f"{GATHER_URL}?step={step}", f"{DIAL_STATUS_URL}?step={step}"
    lines = ([(before, reply.language)] if before else []) + voice_parts(reply)
    if reply.action == "connect":
        for line, lang in lines:
            response.say(line, **_voice(call, lang))
        dial = response.dial(action=dial_url, method="POST", timeout=call.dial_timeout, answer_on_bridge=True)
        dial.number(call.hotline_number)
        return xml_response(response)
    if reply.action == "hangup":
        for line, lang in lines:
            response.say(line, **_voice(call, lang))
        response.hangup()
        return xml_response(response)
    listen: dict[str, object] = {
        "input": "dtmf speech",
        "action": gather_url,
        "method": "POST",
        "action_on_empty_result": True,
        "language": call.voice_for(reply.language)[1],
        "speech_timeout": "auto",
    }
    hints = call.hints_by_language.get(reply.language, call.hints)
    if hints:
        listen["hints"] = ", ".join(hints[:MAX_HINTS])
    if reply.expect == "place":
        listen.update(finish_on_key="#", timeout=PLACE_TIMEOUT_SECONDS)  # a ZIP code, ended with pound
    else:
        listen.update(num_digits=1, timeout=CHOICE_TIMEOUT_SECONDS)
    if reply.wait:
        listen["timeout"] = WAIT_TIMEOUT_SECONDS
    gather = response.gather(**listen)
    for line, lang in lines:
        gather.say(line, **_voice(call, lang))
    # Not reached while Twilio honours actionOnEmptyResult; if it ever is, it counts as a silent try.
    response.redirect(gather_url, method="POST")
    return xml_response(response)


def _voice(call: CallSettings, language: str) -> dict[str, str]:
    voice, code = call.voice_for(language)
    return {"voice": voice, "language": code}
