"""Bounded input: bodies over the limit get 413 before any parsing or signature work; the text read is capped."""

from __future__ import annotations

import http.client
import io
import subprocess
import sys
import time

from bot.core.engine import Inbound
from tests.servers import free_port
from tests.twilio_webhooks import AUTH_TOKEN, Phone, assert_hotlines, sign, sms_params


def test_a_body_over_the_limit_is_refused_before_it_is_read(client, app, monkeypatch) -> None:
    checked: list[str] = []
    from twilio.request_validator import RequestValidator

    monkeypatch.setattr(RequestValidator, "compute_signature", lambda *a: checked.append("signed") or "")
    params = sms_params("x" * 70_000, "+13865557301")
    response = client.post("/sms", data=params, headers={"X-Twilio-Signature": "anything"})
    assert response.status_code == 413
    assert checked == [], "no signature was computed"


def test_a_body_without_a_length_over_the_limit_is_refused(client) -> None:
    body = io.BytesIO(b"Body=" + b"x" * 80_000)
    response = client.post(
        "/sms", input_stream=body, content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_a_body_under_the_limit_is_answered(phone: Phone) -> None:
    assert_hotlines(phone.send("volusia " + "x" * 1500))


def test_the_engine_reads_at_most_1600_characters(app, monkeypatch, phone: Phone) -> None:
    seen: list[int] = []
    helpline = app.extensions["helpline"]
    original = helpline.converse

    def spy(channel: str, sender: str, inbound: Inbound, delivery: str | None = None):  # type: ignore[no-untyped-def]
        seen.append(len(inbound.text))
        return original(channel, sender, inbound, delivery)

    monkeypatch.setattr(helpline, "converse", spy)
    assert_hotlines(phone.send("a" * 5000))
    assert seen == [1600]


def test_a_50_mb_body_sent_to_gunicorn_gets_413_at_once(tmp_path, database_url, redis_url) -> None:
    """Through the server the Procfile runs: the body is never read, the worker answers at once."""
    from tests.conftest import make_env

    port = free_port()
    env = {**make_env(tmp_path, database_url, redis_url), "PYTHONPATH": "."}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}",
         "wsgi:app"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.3)
        params = sms_params("hi", "+13865557302")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start = time.monotonic()
        conn.putrequest("POST", "/sms")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(50 * 1024 * 1024))
        conn.putheader("X-Twilio-Signature", sign(f"http://127.0.0.1:{port}/sms", params, AUTH_TOKEN))
        conn.endheaders()
        conn.send(b"Body=" + b"x" * 65536)
        response = conn.getresponse()
        assert response.status == 413
        assert time.monotonic() - start < 5
    finally:
        server.terminate()
        server.wait(timeout=20)
