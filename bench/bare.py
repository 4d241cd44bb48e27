"""The physical limit of this stack: the same gunicorn and Flask answering every POST /sms with a fixed TwiML <Message>.

No signature check, no Redis, no database, no engine: whatever the full helpline does on top of this is our cost.
"""

from __future__ import annotations

from flask import Flask, Response

TEXT = "Hi, this is the helpline. Reply 1 for local peer support.\n\nSAMHSA National Helpline: 1-800-662-HELP (4357)"
FIXED = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{TEXT}</Message></Response>'

app = Flask(__name__)


@app.post("/sms")
def sms() -> Response:
    """Always the same reply."""
    return Response(FIXED, status=200, mimetype="application/xml")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
