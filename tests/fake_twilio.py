"""A local stand-in for Twilio's REST API (Messages only), reached through the real `twilio` client.

It answers `POST /2010-04-01/Accounts/{sid}/Messages.json` as Twilio does (201 and a message resource) and
`GET` on the same path (the message list, newest first, filtered by `To`), checks HTTP basic auth, and
records every request. A test scripts what the next POSTs get with `plan(...)`:

    "ok"            201, the message is accepted (the default when nothing is planned)
    "500", "503"    a server error, nothing accepted
    "429"           too many requests (error 20429), nothing accepted
    "21610", "21211", "21614"   Twilio's 400 for an opted-out, invalid or non-mobile recipient
    "stall"         hold the request open without accepting anything, until `release()` or the client dies
    "accept-stall"  accept the message, then hold the response back: Twilio took it, the sender never hears

It binds 127.0.0.1 on a free port and stops itself (stalls time out) when the test ends.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json$")
_ERRORS = {
    "21610": (400, "Attempt to send to unsubscribed recipient"),
    "21211": (400, "Invalid 'To' Phone Number"),
    "21614": (400, "'To' number is not a valid mobile number"),
}
STALL_LIMIT_SECONDS = 30.0


@dataclass
class Request:
    """One request as the fake server saw it."""

    method: str
    path: str
    form: dict[str, str]
    query: dict[str, str]
    auth: tuple[str, str] | None
    answered: str = ""


@dataclass
class FakeTwilio:
    """The server, what it has accepted, and the script for what comes next."""

    account_sid: str
    auth_token: str
    messages: list[dict[str, object]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    _plan: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)
    stalled: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def plan(self, *answers: str) -> None:
        """What the next POSTs get, in order (afterwards: "ok")."""
        with self._lock:
            self._plan.extend(answers)

    def release(self) -> None:
        """Let stalled requests finish."""
        self._released.set()

    def posts(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    def lists(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET"]

    def start(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep the test output quiet
                pass

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_GET(self) -> None:
                fake._handle(self, "GET")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-twilio", daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- handling -----------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request = Request(method, parts.path, form, query, _basic_auth(handler.headers.get("Authorization")))
        with self._lock:
            self.requests.append(request)
        match = _PATH.match(parts.path)
        if not match or match.group(1) != self.account_sid:
            return self._send(handler, 404, {"code": 20404, "message": "The requested resource was not found"})
        if request.auth != (self.account_sid, self.auth_token):
            return self._send(handler, 401, {"code": 20003, "message": "Authenticate"})
        if method == "GET":
            return self._send(handler, 200, self._page(query))
        with self._lock:
            answer = self._plan.pop(0) if self._plan else "ok"
        request.answered = answer
        if answer in ("500", "503"):
            return self._send(handler, int(answer), {"code": 20500, "message": "Internal Server Error"})
        if answer == "429":
            return self._send(handler, 429, {"code": 20429, "message": "Too Many Requests"})
        if answer in _ERRORS:
            status, error = _ERRORS[answer]
            return self._send(handler, status, {"code": int(answer), "message": error})
        if answer == "stall":
            self.stalled.set()
            self._released.wait(STALL_LIMIT_SECONDS)
            return self._send(handler, 503, {"code": 20503, "message": "Service Unavailable"})
        message = self._accept(form)
        if answer == "accept-stall":
            self.stalled.set()
            self._released.wait(STALL_LIMIT_SECONDS)
        return self._send(handler, 201, message)

    def _accept(self, form: dict[str, str]) -> dict[str, object]:
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC))
        message: dict[str, object] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body", ""),
            "status": "queued" if form.get("From") else "accepted",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "price": None,
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "status_callback": form.get("StatusCallback"),
        }
        with self._lock:
            self.messages.append(message)
        return message

    def _page(self, query: dict[str, str]) -> dict[str, object]:
        with self._lock:
            found = [m for m in reversed(self.messages) if not query.get("To") or m["to"] == query["To"]]
        size = int(query.get("PageSize", "50"))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return {
            "messages": found[:size],
            "end": min(len(found), size) - 1,
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
        }

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, object]) -> None:
        if status >= 400 and "status" not in payload:
            payload = {
                **payload,
                "status": status,
                "more_info": f"https://www.twilio.com/docs/errors/{payload.get('code')}",
            }
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a killed worker): Twilio would not notice either


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password
