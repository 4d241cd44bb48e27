"""`POST /sms`: Twilio's Messaging webhook, a thin adapter from form fields to `Helpline.converse`.

`POST /sms/status` takes the status callbacks of the texts we send (the lists callers ask for) and keeps
only what tells whether a message was delivered: its SID, status and error code.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from bot.core.engine import Inbound
from bot.helpline import Helpline, Outcome
from bot.storage.conversations import delivery_key
from bot.storage.outbox import record_delivery
from bot.web.limits import capped
from bot.web.signature import twilio_signed
from bot.web.twiml import answer, empty_twiml, sms_twiml

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__)


def helpline() -> Helpline:
    return current_app.extensions["helpline"]


@bp.post("/sms")
@twilio_signed
def incoming_sms() -> Response:
    """Answer an inbound text with TwiML, once per delivery (Twilio may deliver a webhook twice)."""
    sender = request.form.get("From", "")
    body = capped(request.form.get("Body", ""), current_app.config["HELPLINE_SETTINGS"].max_body_chars)
    delivery = delivery_key(request.full_path, request.form.to_dict(flat=True))
    running = helpline()
    outcome = running.converse("sms", sender.strip(), Inbound(text=body, channel="sms"), delivery)
    return answer(running, outcome, _sms_answer)


def _sms_answer(outcome: Outcome) -> Response:
    return empty_twiml() if outcome.reply is None else sms_twiml(outcome.reply)


@bp.post("/sms/status")
@twilio_signed
def message_status() -> tuple[str, int]:
    """Remember how far a text we sent got (delivered, undelivered, failed), by message SID only."""
    sid = request.form.get("MessageSid", "")
    status = request.form.get("MessageStatus", "")
    if sid and status:
        parts = current_app.extensions["helpline_parts"]
        error = request.form.get("ErrorCode") or None
        try:
            record_delivery(parts.redis, sid, status, error)
        except Exception as exc:  # noqa: BLE001 - a lost status is no reason to make Twilio retry
            parts.helpline.faults.report("delivery status", exc)
        if status in ("undelivered", "failed"):
            log.warning("text %s was not delivered (error %s)", sid, error)
    return "", 204
