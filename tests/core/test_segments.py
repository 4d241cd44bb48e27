"""Segment counts as carriers count them."""

from __future__ import annotations

import pytest

from bot.core.segments import count


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("{" * 80, "GSM-7", 1),
        ("{" * 81, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),
        ("ñ" * 70 + "\u2019", "UCS-2", 2),
        ("\u2019" * 70, "UCS-2", 1),
        ("\u2019" * 71, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments(text: str, encoding: str, segments: int) -> None:
    result = count(text)
    assert (result.encoding, result.segments) == (encoding, segments)
