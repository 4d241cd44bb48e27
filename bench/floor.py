"""The floor under the helpline: what any stateful Twilio webhook on this stack pays for, and nothing more.

It checks the signature with the official validator (one HMAC), parses the form, claims the delivery and reads the
sender's state in one Redis round trip, writes the new state in a second, and answers with TwiML built by the
twilio library. No engine, directory, opt-outs, rate limit or logging. Its throughput beside the bare endpoint's
says how much of the gap between the helpline and the bare endpoint no engine could close.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import redis
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bench.bare import TEXT

app = Flask(__name__)
store = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"))
validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", ""))
signed_url = os.environ.get("PUBLIC_BASE_URL", "") + "/sms"


@app.post("/sms")
def sms() -> Response:
    """Signature, form, two Redis round trips, TwiML."""
    params = request.form.to_dict(flat=True)
    if not hmac.compare_digest(validator.compute_signature(signed_url, params),
                               request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    sender = hashlib.sha256(params.get("From", "").encode()).hexdigest()
    read = store.pipeline(transaction=False)
    read.set(f"floor:delivery:{params.get('MessageSid', '')}", 1, nx=True, ex=60)
    read.get(f"floor:state:{sender}")
    _, state = read.execute()
    store.set(f"floor:state:{sender}", int(state or 0) + 1, ex=3600)
    reply = MessagingResponse()
    reply.message(TEXT)
    return Response(str(reply), status=200, mimetype="application/xml")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
