"""Keyed hashes of phone numbers: what we store instead of the numbers themselves."""

from __future__ import annotations

import hashlib
import hmac


def person_key(secret: str, number: str) -> str:
    """A stable, non-reversible key for a phone number (HMAC-SHA256, hex, 32 chars)."""
    canonical = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()[:32]
