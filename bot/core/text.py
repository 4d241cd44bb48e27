"""Normalising what people type, so that matching forgives case, punctuation and spacing."""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: `"  St. Johns!! "` -> `"st johns"`."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("&", " and ").replace("'", "").replace("\u2019", "")
    return _SPACE.sub(" ", _PUNCT.sub(" ", plain.lower())).strip()


def words(text: str) -> list[str]:
    """The folded words of a message."""
    folded = fold(text)
    return folded.split(" ") if folded else []
