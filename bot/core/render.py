"""Turning a `Reply` into what a phone shows (SMS) or what a caller hears (voice), as plain text.

TwiML is not made here (that is the web layer's job); this module decides the words, keeps texts within
the segment budget, and always ends with the hotlines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.core.directory import Phone, Resource
from bot.core.reply import Hotlines, Reply, Section
from bot.core.segments import MAX_SMS_CHARS, count

VOICE_PAGE = 3


def sms_footer(h: Hotlines) -> str:
    """The lines that end every text."""
    return f"{h.hotline_name}: {h.hotline.text}\n{h.samhsa_name}: {h.samhsa.text}\n{h.crisis_line}"


def _short_url(url: str) -> str:
    for prefix in ("https://", "http://", "www."):
        if url.startswith(prefix):
            url = url[len(prefix) :]
    return url.rstrip("/")


def resource_line(r: Resource) -> str:
    """`- Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)`."""
    reach = [p.text for p in r.phones if p.kind == "voice"]
    if r.text_instructions:
        reach.append(r.text_instructions)
    if not reach and r.url:
        reach.append(_short_url(r.url))
    line = f"- {r.name}: {', '.join(reach)}" if reach else f"- {r.name}"
    if r.miles is not None:
        line += f" ({distance(r.miles, r.miles_approx)})"
    return line


def distance(miles: float, approx: bool = False) -> str:
    """`2.4 mi`, or `about 20 mi` when measured to a county's centre rather than an address."""
    return f"about {round(miles)} mi" if approx else f"{miles:.1f} mi"


def sms_text(reply: Reply, line: Callable[[Resource], str] = resource_line) -> str:
    """The whole text message for a reply, footer included (`line` writes one resource)."""
    blocks: list[str] = []
    head = "\n".join(x for x in (reply.notice, reply.text) if x)
    if head:
        blocks.append(head)
    for section in reply.sections:
        lines = [section.title] if section.title else []
        lines += [line(r) for r in section.resources]
        if lines:
            blocks.append("\n".join(lines))
    if reply.choices:
        blocks.append("\n".join(f"{c.key} {c.label}" for c in reply.choices))
    if reply.hint:
        blocks.append(reply.hint)
    blocks.append(sms_footer(reply.hotlines))
    return "\n\n".join(blocks)


def fit(reply: Reply, channel: str, sms_budget: int, skip: int = 0) -> tuple[Reply, int]:
    """Keep as many resources (after the first `skip`) as the channel allows; return the reply and how many."""
    flat = [(i, r) for i, s in enumerate(reply.sections) for r in s.resources][skip:]
    keep_empty = skip == 0

    def build(n: int) -> Reply:
        chosen = flat[:n]
        sections = []
        for i, s in enumerate(reply.sections):
            rs = tuple(r for j, r in chosen if j == i)
            if rs or (keep_empty and not s.resources):
                sections.append(Section(s.title, rs))
        return replace(reply, sections=tuple(sections), more=len(flat) - n)

    if channel == "voice":
        n = min(VOICE_PAGE, len(flat))
        return build(n), n
    lines: dict[int, str] = {}

    def line(r: Resource) -> str:
        # Each candidate text repeats the same resource lines: write each once per fitting.
        key = id(r)
        if key not in lines:
            lines[key] = resource_line(r)
        return lines[key]

    def fits(n: int) -> bool:
        candidate = build(n)
        body = sms_text(replace(candidate, hint="Reply MORE for 99 more." if candidate.more else ""), line)
        return count(body).segments <= sms_budget and len(body) <= MAX_SMS_CHARS

    # One more resource only ever lengthens the text (below the whole list, which drops the MORE hint), so
    # the most that fit is found by bisection: a county with 300 listings costs 9 renders, not 300.
    if flat and fits(len(flat)):
        best = len(flat)
    else:
        low, high = 0, max(len(flat) - 1, 0)
        while low < high:
            middle = (low + high + 1) // 2
            if fits(middle):
                low = middle
            else:
                high = middle - 1
        best = low
    if best == 0 and flat:
        best = 1
    return build(best), best


def spoken_number(phone: Phone) -> str:
    """Digits read one by one, grouped the way people say them: `8 0 0, 5 3 9, 4 2 2 8`."""
    d = phone.digits
    if len(d) == 10:
        groups = [d[0:3], d[3:6], d[6:]]
    elif len(d) == 11:
        groups = [d[0], d[1:4], d[4:7], d[7:]]
    else:
        groups = [d]
    return ", ".join(" ".join(g) for g in groups)


def sms_body(reply: Reply) -> str:
    """The text to send, never over Twilio's 1,600-character limit and never without the hotlines."""
    body = sms_text(reply)
    if len(body) <= MAX_SMS_CHARS:
        return body
    trimmed = sms_text(replace(reply, sections=(), choices=(), hint=""))
    if len(trimmed) <= MAX_SMS_CHARS:
        return trimmed
    return sms_footer(reply.hotlines)
