"""Turning a `Reply` into what a phone shows (SMS) or what a caller hears (voice), as plain text.

TwiML is not made here (that is the web layer's job); this module decides the words, keeps texts within
the segment budget, and always ends with the hotlines. On a call every prompt names the 24/7 line (press 0)
and reads the SAMHSA number; numbers are read digit by digit, grouped as people say them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from bot.core.directory import Phone, Resource
from bot.core.reply import Choice, Hotlines, Reply, Section, TextedList
from bot.core.segments import MAX_SMS_CHARS, count

VOICE_PAGE = 5
"""Resources read aloud at once; the whole list can always be had by text."""


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


# --- Calls -------------------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d{3,}")
_URL_SCHEME = re.compile(r"^(?:https?://)?(?:www\.)?")

TEXT_OUTCOMES = {
    "queued": "I'm sending this list by text to the number you're calling from. It should arrive in a minute or two.",
    "already": "This list is already on its way to you by text.",
    "opted_out": "This number has asked not to get texts from us, so I can't send the list.",
    "unavailable": "Sorry, I can't send a text to the number you're calling from.",
    "failed": "Sorry, I couldn't send the text just now.",
}
"""What a caller hears after asking for the list by text, by what became of the request."""


def speakable(text: str) -> str:
    """Words a speech engine reads well: "24/7" as "twenty-four seven", long numbers digit by digit."""
    text = text.replace("24/7", "twenty-four seven")
    return _DIGIT_RUN.sub(lambda m: " ".join(m.group(0)), text)


def _lower_first(phrase: str) -> str:
    """"Local peer support" -> "local peer support", but "SMART Recovery" and "Lake County" keep their capitals."""
    words = phrase.split()
    if not words or words[0].isupper() or any(w[:1].isupper() for w in words[1:]):
        return phrase
    return phrase[:1].lower() + phrase[1:]


def spoken_choice(choice: Choice) -> str:
    """`For local peer support, press 1.`, or `To get this list by text, press 1.`."""
    phrase = choice.spoken.strip().rstrip(".")
    if phrase.lower().startswith("to "):
        return f"{phrase[:1].upper()}{phrase[1:]}, press {choice.key}."
    return f"For {_lower_first(phrase)}, press {choice.key}."


def voice_safety(h: Hotlines) -> str:
    """What every caller hears first: 911, 988, the 24/7 line and SAMHSA, with the numbers read out."""
    return (
        "If this is an emergency, hang up and call 9 1 1. "
        "If you are in crisis, you can call or text 9 8 8 at any time. "
        f"To talk with someone now, call the {speakable(h.hotline_name)} at {spoken_number(h.hotline)}. "
        f"The {speakable(h.samhsa_name)} is {spoken_number(h.samhsa)}."
    )


def voice_footer(h: Hotlines) -> str:
    """The end of every prompt: a person is one key away, and the SAMHSA number."""
    return (
        f"To talk with someone at the {speakable(h.hotline_name)}, press 0. "
        f"You can also call the {speakable(h.samhsa_name)} at {spoken_number(h.samhsa)}."
    )


def voice_resource(r: Resource) -> str:
    """`Volusia Recovery Alliance: 3 8 6, 7 7 7, 7 3 3 7.`"""
    phones = [p for p in r.phones if p.kind == "voice"]
    if phones:
        return f"{r.name}: {spoken_number(phones[0])}."
    if r.text_instructions:
        return f"{r.name}: {speakable(r.text_instructions).rstrip('.')}."
    if r.url:
        site = _URL_SCHEME.sub("", r.url).rstrip("/").split("/")[0]
        return f"{r.name}: online at {site.replace('.', ' dot ')}."
    return f"{r.name}."


def voice_lines(reply: Reply) -> list[str]:
    """Everything a caller hears for one reply, as short paragraphs (each becomes one `<Say>`)."""
    h = reply.hotlines
    lines = [speakable(reply.notice)] if reply.notice else []
    if reply.wait:
        lines.append("Take your time. When you're ready, press a number or say what you need. "
                     "To hear the choices again, press star.")
        lines.append(voice_footer(h))
        return lines
    if reply.spoken:
        lines.append(speakable(reply.spoken))
    if reply.crisis or "degraded" in reply.tags:
        lines.append(voice_safety(h))
    for section in reply.sections:
        if section.title:
            lines.append(speakable(section.title).rstrip(":") + ".")
        lines.extend(voice_resource(r) for r in section.resources)
    if reply.hint:
        lines.append(speakable(reply.hint))
    if reply.action == "connect":
        lines.append(f"Connecting you to the {speakable(h.hotline_name)} now. Please stay on the line.")
        return lines
    if reply.action == "hangup":
        if not reply.crisis:
            lines.append(voice_safety(h))
        lines.append("Goodbye.")
        return lines
    if reply.choices:
        lines.append(" ".join(spoken_choice(c) for c in reply.choices))
    tips = "To hear this again, press star."
    if reply.misses:
        tips += " If you need more time, press 9."
    lines.append(tips)
    lines.append("To talk with someone now, press 0." if reply.crisis else voice_footer(h))
    return lines


def texted_list_body(texted: TextedList, hotlines: Hotlines, sms_budget: int) -> str:
    """The text a caller asked for: what they heard, the whole list, and the hotlines, within the budget."""
    intro = f"The list from your call to the {hotlines.program}:\n{texted.title}"
    reply, _ = fit(Reply(hotlines, text=intro, sections=texted.sections, expect="none"), "sms", sms_budget)
    if reply.more:
        reply = replace(reply, hint=f"Call us back to hear {reply.more} more.")
    return sms_body(reply)
