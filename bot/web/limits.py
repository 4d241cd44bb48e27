"""Bounded input: a request body over `MAX_REQUEST_BYTES` is refused with 413 before anything reads it.

Twilio's webhooks are a few kilobytes. A declared length over the limit is refused by this WSGI wrapper,
before Flask parses a form or a signature is computed; a body sent without a length (chunked) is cut off
at the limit by Werkzeug (`MAX_CONTENT_LENGTH`), which also answers 413. The text the engine reads is capped
separately (`MAX_BODY_CHARS`, Twilio's longest message), in the webhooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

TOO_LARGE = b"request body too large\n"


class BodyLimit:
    """WSGI middleware: 413 for a declared Content-Length over `limit` bytes, without reading the body."""

    def __init__(self, app: WSGIApplication, limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.strip().isdigit() and int(declared) > self.limit:
            start_response("413 Request Entity Too Large", [
                ("Content-Type", "text/plain"), ("Content-Length", str(len(TOO_LARGE))), ("Connection", "close"),
            ])
            return [TOO_LARGE]
        return self.app(environ, start_response)


def capped(text: str, limit: int) -> str:
    """The first `limit` characters of what a person sent (the engine never reads more)."""
    return text[:limit]


