"""How a reply looks on a phone screen or sounds on a call, as plain text for the simulator and transcripts.

The SMS form is exactly what is sent (`render.sms_body`), with its segment count. The voice form is the
words a caller hears, in order, with numbers read digit by digit.
"""

from __future__ import annotations

from bot.core.render import VOICE_PAGE, resource_line, sms_body, spoken_number
from bot.core.reply import Reply
from bot.core.segments import SegmentCount, count


def sms_preview(reply: Reply) -> tuple[str, SegmentCount]:
    """The text message and how the network counts it."""
    body = sms_body(reply)
    return body, count(body)


def voice_preview(reply: Reply) -> str:
    """What a caller hears, one sentence a line."""
    h = reply.hotlines
    lines = [x for x in (reply.notice, reply.spoken) if x]
    for section in reply.sections:
        if section.title:
            lines.append(section.title)
        for r in section.resources[:VOICE_PAGE]:
            voices = [p for p in r.phones if p.kind == "voice"]
            if voices:
                lines.append(f"{r.name}: {spoken_number(voices[0])}.")
            else:
                lines.append(resource_line(r).lstrip("- "))
    for c in reply.choices:
        lines.append(f"For {c.spoken}, press {c.key}.")
    lines.append(f"{h.hotline_name}: {spoken_number(h.hotline)}. {h.samhsa_name}: {spoken_number(h.samhsa)}.")
    return "\n".join(lines)
