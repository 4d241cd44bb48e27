"""Twilio request signatures: every webhook must prove it came from Twilio, or gets 403.

Twilio signs the public URL it called. Behind a proxy or tunnel the app sees another URL, so either set
`PUBLIC_BASE_URL` (the scheme and host Twilio calls, e.g. https://help.example.org) or `TRUST_PROXY=1`
to honour `X-Forwarded-Proto`/`X-Forwarded-Host` from one trusted proxy.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def public_url() -> str:
    """The URL Twilio signed: the configured public base plus this path and query, or the request URL."""
    base = current_app.config["HELPLINE_SETTINGS"].public_base_url
    if base:
        query = request.query_string.decode()
        return f"{base}{request.path}" + (f"?{query}" if query else "")
    return request.url


def twilio_signed(view: F) -> F:
    """Reject requests without a valid `X-Twilio-Signature` (unless running in development mode with no token)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.config["HELPLINE_SETTINGS"]
        if settings.validate_signatures:
            validator = RequestValidator(settings.twilio_auth_token)
            signature = request.headers.get("X-Twilio-Signature", "")
            url, params = public_url(), _Fields(request.form.to_dict(flat=True))
            # The exact URL first (one HMAC); `validate` tries the URL with and without the port (two HMACs
            # every time), which only matters when the exact one fails.
            exact = hmac.compare_digest(validator.compute_signature(url, params), signature) if signature else False
            if not exact and (not signature or not validator.validate(url, params, signature)):
                log.warning("rejected unsigned or mis-signed request to %s", request.path)
                abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class _Fields(dict[str, str]):
    """Form fields in the shape `RequestValidator` reads first: from a plain dict it takes each field only after
    two failed attribute lookups, which cost more than the HMAC itself."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]
