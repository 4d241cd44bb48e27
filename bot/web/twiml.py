"""The only place TwiML is made: a `Reply` becomes `<Response><Message>` (and, later, voice verbs)."""

from __future__ import annotations

from flask import Response
from twilio.twiml.messaging_response import MessagingResponse

from bot.core.render import sms_body
from bot.core.reply import Reply

TWIML_MIMETYPE = "application/xml"


def xml_response(twiml: object) -> Response:
    """Wrap a twilio TwiML object as an HTTP 200 XML response."""
    return Response(str(twiml), status=200, mimetype=TWIML_MIMETYPE)


def sms_twiml(reply: Reply) -> Response:
    """One `<Message>` with the reply's text, hotlines included."""
    response = MessagingResponse()
    response.message(sms_body(reply))
    return xml_response(response)


def empty_twiml() -> Response:
    """`<Response/>`: Twilio sends nothing."""
    return xml_response(MessagingResponse())
