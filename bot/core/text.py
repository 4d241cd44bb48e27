"""Normalising what people type, so that matching forgives case, punctuation, spacing and what no one can see."""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^\w\s]")
# Marks (accents, variation selectors) and format characters (zero-width spaces and joiners U+200B-U+200D,
# word joiner U+2060, byte-order mark U+FEFF, soft hyphen U+00AD, bidi marks and isolates): a reader sees none
# of them, so they must not split or hide a word.
_UNSEEN = frozenset({"Mn", "Me", "Cf"})
_ACCENTS = re.compile("[\u0300-\u036f]")  # the marks of Latin letters, the common case, without a lookup
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
# Cyrillic and Greek letters drawn like Latin ones, as they are slipped into a Latin word.
_LOOKALIKE = str.maketrans(
    "аеорсухіјѕԁһӏԛԝАВЕКМНОРСТХІЈЅ" "οικνρτυχαΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhlqwABEKMHOPCTXIJS" "oikvptuxaABEZHIKMNOPTYX",
)


def unmask(text: str) -> str:
    """`text` as a reader sees it: compatibility forms folded (full-width letters, ligatures, styled letters, as
    NFKC does), accents and invisible characters dropped, look-alike Cyrillic and Greek letters read as Latin."""
    if text.isascii():
        return text
    plain = _ACCENTS.sub("", unicodedata.normalize("NFKD", text))
    if not plain.isascii():
        plain = _NOT_ASCII.sub(_seen, plain).translate(_LOOKALIKE)
    return plain


def _seen(found: re.Match[str]) -> str:
    return "" if unicodedata.category(found.group()) in _UNSEEN else found.group()


def fold(text: str) -> str:
    """Lower-case, strip accents, punctuation and invisible characters, collapse spaces: `"  St. Johns!! "` ->
    `"st johns"`."""
    plain = unmask(text).replace("&", " and ").replace("'", "").replace("\u2019", "")
    return " ".join(_PUNCT.sub(" ", plain.lower()).split())


def words(text: str) -> list[str]:
    """The folded words of a message."""
    folded = fold(text)
    return folded.split(" ") if folded else []
