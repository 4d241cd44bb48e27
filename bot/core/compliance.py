"""Carrier opt-out and opt-in words (CTIA), read case- and punctuation-blind.

A single keyword is the whole message ("STOP", "Stop.", "opt out"); plain requests ("please stop texting
me") count too, but a sentence that merely contains "stop" ("I want to stop drinking") does not.
"""

from __future__ import annotations

import re

from bot.core.text import fold

OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN_WORDS = frozenset({"start", "unstop", "yes"})
OPT_OUT_REQUESTS = re.compile(
    r"\b(?:stop|quit) (?:texting|messaging|sending|contacting|txting)\b"
    r"|\b(?:dont|do not|don t) (?:text|message|txt|contact) me\b"
    r"|\bunsubscribe me\b|\bremove me from\b|\btake me off\b|\bno more (?:texts|messages)\b"
)


def opt_out_keyword(text: str) -> str | None:
    """The opt-out keyword a message is, or None: `"STOP."` -> `"stop"`, `"please stop texting me"` -> `"request"`."""
    folded = fold(text)
    compact = folded.replace(" ", "")
    if compact in OPT_OUT_WORDS:
        return compact
    if OPT_OUT_REQUESTS.search(folded):
        return "request"
    return None


def opt_in_keyword(text: str) -> str | None:
    """The opt-in keyword a message is (START, UNSTOP, YES), or None."""
    compact = fold(text).replace(" ", "")
    return compact if compact in OPT_IN_WORDS else None
