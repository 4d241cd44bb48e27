"""SMS segment arithmetic: GSM-7 (160 alone, 153 per part) or UCS-2 (70 alone, 67 per part).

Carriers bill and split by segment, so replies are measured the way the network will count them.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
MAX_SMS_CHARS = 1600


@dataclass(frozen=True)
class SegmentCount:
    """How a body travels: its encoding, its length in that encoding's units, and the parts."""

    encoding: str
    units: int
    segments: int

    def __str__(self) -> str:
        return f"{self.segments} segment{'s' if self.segments != 1 else ''} ({self.encoding}, {self.units} units)"


GSM7_ALL = frozenset(GSM7_BASIC | GSM7_EXTENDED)


def is_gsm7(text: str) -> bool:
    """True when every character has a GSM 03.38 encoding."""
    return GSM7_ALL.issuperset(text)


def count(text: str) -> SegmentCount:
    """Segments the network will use for `text`."""
    if is_gsm7(text):
        # Set and str.count work in C: a reply is measured several times while it is fitted to the budget.
        units = len(text) + sum(text.count(ch) for ch in GSM7_EXTENDED)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SegmentCount(encoding, units, segments)
