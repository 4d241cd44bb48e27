"""`POST /sms`: Twilio's Messaging webhook, a thin adapter from form fields to `Helpline.converse`."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from bot.core.engine import Inbound
from bot.helpline import Helpline
from bot.web.replay import once_per_delivery
from bot.web.signature import twilio_signed
from bot.web.twiml import empty_twiml, sms_twiml

bp = Blueprint("sms", __name__)


def helpline() -> Helpline:
    return current_app.extensions["helpline"]


@bp.post("/sms")
@twilio_signed
@once_per_delivery(sms_twiml)
def incoming_sms() -> Response:
    """Answer an inbound text with TwiML."""
    sender = request.form.get("From", "")
    body = request.form.get("Body", "")
    outcome = helpline().converse("sms", sender or "unknown", Inbound(text=body, channel="sms"))
    if outcome.reply is None:
        return empty_twiml()
    return sms_twiml(outcome.reply)
