"""How a reply looks on a phone screen or sounds on a call, as plain text for the simulator and transcripts.

The SMS form is exactly what is sent (`render.sms_body`), with its segment count. The voice form is the
words a caller hears, in order, with numbers read digit by digit.
"""

from __future__ import annotations

from bot.core.render import sms_body, voice_lines
from bot.core.reply import Reply
from bot.core.segments import SegmentCount, count


def sms_preview(reply: Reply) -> tuple[str, SegmentCount]:
    """The text message and how the network counts it."""
    body = sms_body(reply)
    return body, count(body)


def voice_preview(reply: Reply) -> str:
    """What a caller hears (`render.voice_lines`, as the phone line says it), one paragraph a line.

    A transfer to the 24/7 line or the end of the call shows as a last line in brackets; a list the caller
    asked for by text shows as what is sent.
    """
    lines = voice_lines(reply)
    if reply.action == "connect" or "degraded" in reply.tags:
        lines.append(f"[the call is put through to {reply.hotlines.hotline_name}: {reply.hotlines.hotline.number}]")
    elif reply.action == "hangup":
        lines.append("[the call ends]")
    if reply.texted is not None:
        lines.append(f"[a text with the list is sent: {reply.texted.title}]")
    return "\n".join(lines)
