"""Turning a `Reply` into what a phone shows (SMS) or what a caller hears (voice), as plain text.

TwiML is not made here (that is the web layer's job); this module decides the words, keeps texts within
the segment budget, and always ends with the hotlines. On a call every prompt names the 24/7 line (press 0)
and reads the SAMHSA number, and a prompt that reads listings reads the 24/7 line's number too; numbers are
read digit by digit, grouped as people say them. The fixed wording is in `WORDS`, one set per language the
bot speaks; a reply is worded in its `language`. Spanish texts keep to GSM-7 (é, ñ, ü, ¿ and ¡ but not
á, í, ó, ú): their words are chosen so, never written without the accents they need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from bot.core.directory import Phone, Resource
from bot.core.flows.model import LANGUAGE_KEY
from bot.core.reply import Choice, Hotlines, Reply, Section, TextedList
from bot.core.segments import MAX_SMS_CHARS, count

VOICE_PAGE = 5
"""Resources read aloud at once; the whole list can always be had by text."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "about_miles": "about {miles} mi",
        "texted_intro": "The list from your call to the {program}:",
        "call_back": "Call us back to hear {count} more.",
        "offer_sms": "For English, reply ENGLISH.",
        "offer_voice": "For English, press {key} or say English.",
        "twenty_four_seven": "twenty-four seven",
        "line_at": "{name} at {number}",
        "for_choice": "For {phrase}, press {key}.",
        "to_choice": "{phrase}, press {key}.",
        "to": "to ",
        "emergency": "If this is an emergency, hang up and call 9 1 1.",
        "crisis": "If you are in crisis, you can call or text 9 8 8 at any time.",
        "talk_now_at": "To talk with someone now, call the {hotline} at {number}.",
        "samhsa_is": "The {samhsa} is {number}.",
        "press_0": "To talk with someone at the {hotline}, press 0.",
        "press_0_or_call": "To talk with someone at the {hotline}, press 0, or call {number}.",
        "samhsa_too": "You can also call the {samhsa} at {number}.",
        "take_your_time": "Take your time. When you're ready, press a number or say what you need. "
        "To hear the choices again, press star.",
        "connecting": "Connecting you to the {hotline} now. Please stay on the line.",
        "goodbye": "Goodbye.",
        "repeat": "To hear this again, press star.",
        "more_time": "If you need more time, press 9.",
        "press_0_now": "To talk with someone now, press 0.",
        "online": "online at {site}",
        "dot": " dot ",
        "trouble": "Sorry, something went wrong on our side.",
    },
    "es": {
        "about_miles": "a unas {miles} mi",
        "texted_intro": "La lista de su llamada a la {program}:",
        "call_back": "Vuelva a llamarnos para escuchar otros {count}.",
        "offer_sms": "Para español, responda ESPAÑOL.",
        "offer_voice": "Para español, oprima {key} o diga español.",
        "twenty_four_seven": "24 horas",
        "line_at": "{name} al {number}",
        "for_choice": "Para {phrase}, oprima {key}.",
        "to_choice": "{phrase}, oprima {key}.",
        "to": "para ",
        "emergency": "Si es una emergencia, cuelgue y llame al 9 1 1.",
        "crisis": "Si está en crisis, puede llamar al 9 8 8 y oprimir 2 para español, "
        "o mandar la palabra AYUDA por texto al 9 8 8, a cualquier hora.",
        "talk_now_at": "Para hablar con alguien ahora, llame a {hotline} al {number}.",
        "samhsa_is": "El número de {samhsa} es el {number}.",
        "press_0": "Para hablar con alguien de {hotline}, oprima 0.",
        "press_0_or_call": "Para hablar con alguien de {hotline}, oprima 0, o llame al {number}.",
        "samhsa_too": "También puede llamar a {samhsa} al {number}.",
        "take_your_time": "Tómese su tiempo. Cuando quiera, oprima un número o diga lo que necesita. "
        "Para escuchar las opciones otra vez, oprima asterisco.",
        "connecting": "Le estamos comunicando con {hotline}. Por favor, no cuelgue.",
        "goodbye": "Adiós.",
        "repeat": "Para escuchar esto otra vez, oprima asterisco.",
        "more_time": "Si necesita más tiempo, oprima 9.",
        "press_0_now": "Para hablar con alguien ahora, oprima 0.",
        "online": "en internet, en {site}",
        "dot": " punto ",
        "trouble": "Perdone, tuvimos un problema de nuestro lado.",
    },
}
"""The fixed wording of texts and calls, by language (a flow's own texts are in the flow file).
`offer_*` is the line that offers a language, written in that language."""


def words(language: str) -> dict[str, str]:
    """The fixed wording in `language` (English when the bot has none in it)."""
    return WORDS.get(language) or WORDS["en"]


def sms_footer(h: Hotlines, language: str = "en") -> str:
    """The lines that end every text, named in `language`."""
    h = h.in_language(language)
    return f"{h.hotline_name}: {h.hotline.text}\n{h.samhsa_name}: {h.samhsa.text}\n{h.crisis_line}"


def _short_url(url: str) -> str:
    for prefix in ("https://", "http://", "www."):
        if url.startswith(prefix):
            url = url[len(prefix) :]
    return url.rstrip("/")


def resource_line(r: Resource, language: str = "en") -> str:
    """`- Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)`."""
    reach = [p.text for p in r.phones if p.kind == "voice"]
    if r.text_instructions:
        reach.append(r.text_instructions)
    if not reach and r.url:
        reach.append(_short_url(r.url))
    line = f"- {r.name}: {', '.join(reach)}" if reach else f"- {r.name}"
    if r.miles is not None:
        line += f" ({distance(r.miles, r.miles_approx, language)})"
    return line


def distance(miles: float, approx: bool = False, language: str = "en") -> str:
    """`2.4 mi`, or `about 20 mi` when measured to a county's centre rather than an address."""
    return words(language)["about_miles"].format(miles=round(miles)) if approx else f"{miles:.1f} mi"


def sms_text(reply: Reply, line: Callable[[Resource], str] | None = None) -> str:
    """The whole text message for a reply, footer included (`line` writes one resource)."""
    if line is None:
        line = lambda r: resource_line(r, reply.language)  # noqa: E731 - one line, used below only
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
    if reply.offer_language:
        blocks.append(words(reply.offer_language)["offer_sms"])
    blocks.append(sms_footer(reply.hotlines, reply.language))
    return "\n\n".join(blocks)


def with_offer(reply: Reply, language: str, channel: str, sms_budget: int) -> Reply:
    """`reply` offering the other `language` (at the first menu): always on a call; in a text when the
    text still fits the budget (a welcome that already carries HELP and "welcome back" goes without it)."""
    if channel == "voice" or offer_fits(reply, reply.language, language, sms_budget):
        return replace(reply, offer_language=language)
    return reply


def offer_fits(reply: Reply, language: str, offer: str, sms_budget: int) -> bool:
    """Whether `reply`, worded in `language`, still fits the budget as a text with `offer` offered."""
    if reply.sections or reply.texted is not None:
        return _fits(replace(reply, language=language, offer_language=offer), sms_budget)
    # A menu's text is the same for everyone who sees it with the same notice: measured once.
    return _menu_fits(reply.hotlines, reply.notice, reply.text, reply.choices, reply.hint, language, offer, sms_budget)


@lru_cache(maxsize=256)
def _menu_fits(
    hotlines: Hotlines, notice: str, text: str, choices: tuple[Choice, ...], hint: str, language: str, offer: str,
    sms_budget: int,
) -> bool:
    menu = Reply(hotlines, text=text, notice=notice, choices=choices, hint=hint, language=language,
                 offer_language=offer)
    return _fits(menu, sms_budget)


def _fits(reply: Reply, sms_budget: int) -> bool:
    body = sms_text(reply)
    return count(body).segments <= sms_budget and len(body) <= MAX_SMS_CHARS


MORE_HINT = "Reply MORE for 999 more."


def fit(reply: Reply, channel: str, sms_budget: int, skip: int = 0, more_hint: str = MORE_HINT) -> tuple[Reply, int]:
    """Keep as many resources (after the first `skip`) as the channel allows; return the reply and how many.

    `more_hint` is the longest the "MORE for N more" line can be, in the reply's language."""
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
            lines[key] = resource_line(r, reply.language)
        return lines[key]

    def fits(n: int) -> bool:
        candidate = build(n)
        body = sms_text(replace(candidate, hint=more_hint if candidate.more else ""), line)
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
    return sms_footer(reply.hotlines, reply.language)


# --- Calls -------------------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d{3,}")
_URL_SCHEME = re.compile(r"^(?:https?://)?(?:www\.)?")

TEXT_OUTCOMES: dict[str, dict[str, str]] = {
    "en": {
        "queued": "I'm sending this list by text to the number you're calling from. "
        "It should arrive in a minute or two.",
        "already": "This list is already on its way to you by text.",
        "opted_out": "This number has asked not to get texts from us, so I can't send the list.",
        "unavailable": "Sorry, I can't send a text to the number you're calling from.",
        "failed": "Sorry, I couldn't send the text just now.",
    },
    "es": {
        "queued": "Le estoy mandando esta lista por mensaje de texto al número desde el que llama. "
        "Debe llegarle en un minuto o dos.",
        "already": "Esta lista ya va en camino por mensaje de texto.",
        "opted_out": "Este número pidió no recibir mensajes de texto nuestros, así que no puedo mandar la lista.",
        "unavailable": "Lo siento, no puedo mandar un mensaje de texto al número desde el que llama.",
        "failed": "Lo siento, no pude mandar el mensaje de texto en este momento.",
    },
}
"""What a caller hears after asking for the list by text, by language and by what became of the request."""


def text_outcome(outcome: str, language: str) -> str:
    """What the caller hears about the list they asked for by text (a key of `TEXT_OUTCOMES[...]`)."""
    return (TEXT_OUTCOMES.get(language) or TEXT_OUTCOMES["en"])[outcome]


def speakable(text: str, language: str = "en") -> str:
    """Words a speech engine reads well: "24/7" as "twenty-four seven", long numbers digit by digit."""
    text = text.replace("24/7", words(language)["twenty_four_seven"])
    return _DIGIT_RUN.sub(lambda m: " ".join(m.group(0)), text)


def _lower_first(phrase: str) -> str:
    """"Local peer support" -> "local peer support", but "SMART Recovery" and "Lake County" keep their capitals."""
    words = phrase.split()
    if not words or words[0].isupper() or any(w[:1].isupper() for w in words[1:]):
        return phrase
    return phrase[:1].lower() + phrase[1:]


def spoken_choice(choice: Choice, language: str = "en") -> str:
    """`For local peer support, press 1.`, or `To get this list by text, press 1.` (in `language`)."""
    w = words(language)
    phrase = choice.spoken.strip().rstrip(".")
    if phrase.lower().startswith(w["to"]):
        return w["to_choice"].format(phrase=f"{phrase[:1].upper()}{phrase[1:]}", key=choice.key)
    return w["for_choice"].format(phrase=_lower_first(phrase), key=choice.key)


def spoken_line(name: str, phone: Phone, language: str = "en") -> str:
    """`the SMA Healthcare 24/7 line at 8 0 0, 5 3 9, 4 2 2 8`, as a flow's {hotline} reads on a call."""
    return words(language)["line_at"].format(name=name, number=spoken_number(phone))


def voice_safety(h: Hotlines, language: str = "en") -> str:
    """What every caller hears first: 911, 988, the 24/7 line and SAMHSA, with the numbers read out."""
    w, h = words(language), h.in_language(language)
    hotline, samhsa = speakable(h.hotline_name, language), speakable(h.samhsa_name, language)
    return " ".join((
        w["emergency"],
        w["crisis"],
        w["talk_now_at"].format(hotline=hotline, number=spoken_number(h.hotline)),
        w["samhsa_is"].format(samhsa=samhsa, number=spoken_number(h.samhsa)),
    ))


def voice_footer(h: Hotlines, language: str = "en", with_number: bool = False) -> str:
    """The end of every prompt: a person is one key away, and the SAMHSA number; `with_number` also reads
    the 24/7 line's number, for a prompt that reads listings (a caller who hangs up to write one down
    must still have it)."""
    w, h = words(language), h.in_language(language)
    hotline = speakable(h.hotline_name, language)
    if with_number:
        person = w["press_0_or_call"].format(hotline=hotline, number=spoken_number(h.hotline))
    else:
        person = w["press_0"].format(hotline=hotline)
    samhsa = w["samhsa_too"].format(samhsa=speakable(h.samhsa_name, language), number=spoken_number(h.samhsa))
    return f"{person} {samhsa}"


def voice_resource(r: Resource, language: str = "en") -> str:
    """`Volusia Recovery Alliance: 3 8 6, 7 7 7, 7 3 3 7.`"""
    phones = [p for p in r.phones if p.kind == "voice"]
    if phones:
        return f"{r.name}: {spoken_number(phones[0])}."
    if r.text_instructions:
        return f"{r.name}: {speakable(r.text_instructions, language).rstrip('.')}."
    if r.url:
        w = words(language)
        site = _URL_SCHEME.sub("", r.url).rstrip("/").split("/")[0]
        return f"{r.name}: {w['online'].format(site=site.replace('.', w['dot']))}."
    return f"{r.name}."


def voice_offer(reply: Reply) -> str:
    """The line that offers the other language at the first menu, in that language ("" when none)."""
    if not reply.offer_language:
        return ""
    return words(reply.offer_language)["offer_voice"].format(key=LANGUAGE_KEY)


def voice_parts(reply: Reply) -> list[tuple[str, str]]:
    """Everything a caller hears for one reply, as short paragraphs (each becomes one `<Say>`), each with
    the language it is spoken in (the offer of the other language is spoken in that language)."""
    lang = reply.language
    w = words(lang)
    h = reply.hotlines.in_language(lang)
    hotline = speakable(h.hotline_name, lang)
    lines = [speakable(reply.notice, lang)] if reply.notice else []
    if reply.wait:
        lines.append(w["take_your_time"])
        lines.append(voice_footer(h, lang))
        return [(line, lang) for line in lines]
    if reply.spoken:
        lines.append(speakable(reply.spoken, lang))
    parts = [(line, lang) for line in lines]
    offer = voice_offer(reply)
    if offer:
        parts.append((offer, reply.offer_language))
    lines = []
    if reply.crisis or "degraded" in reply.tags:
        lines.append(voice_safety(h, lang))
    for section in reply.sections:
        if section.title:
            lines.append(speakable(section.title, lang).rstrip(":.") + ".")
        lines.extend(voice_resource(r, lang) for r in section.resources)
    if reply.hint:
        lines.append(speakable(reply.hint, lang))
    if reply.action == "connect":
        lines.append(w["connecting"].format(hotline=hotline))
    elif reply.action == "hangup":
        if not reply.crisis:
            lines.append(voice_safety(h, lang))
        lines.append(w["goodbye"])
    else:
        if reply.choices:
            lines.append(" ".join(spoken_choice(c, lang) for c in reply.choices))
        tips = w["repeat"]
        if reply.misses:
            tips += " " + w["more_time"]
        lines.append(tips)
        # A results page (its listings, or the list just sent by text) also reads the 24/7 line's number.
        listing = bool(reply.sections) or reply.texted is not None
        lines.append(w["press_0_now"] if reply.crisis else voice_footer(h, lang, with_number=listing))
    return parts + [(line, lang) for line in lines]


def voice_lines(reply: Reply) -> list[str]:
    """Everything a caller hears for one reply, as short paragraphs (each becomes one `<Say>`)."""
    return [line for line, _ in voice_parts(reply)]


def texted_list_body(texted: TextedList, hotlines: Hotlines, sms_budget: int, language: str = "en") -> str:
    """The text a caller asked for: what they heard, the whole list, and the hotlines, within the budget."""
    w = words(language)
    intro = f"{w['texted_intro'].format(program=hotlines.program)}\n{texted.title}"
    reply = Reply(hotlines, text=intro, sections=texted.sections, expect="none", language=language)
    reply, _ = fit(reply, "sms", sms_budget, more_hint=w["call_back"].format(count=999))
    if reply.more:
        reply = replace(reply, hint=w["call_back"].format(count=reply.more))
    return sms_body(reply)
