"""Carrier opt-out and opt-in words (CTIA), in English and Spanish, read case-, accent- and punctuation-blind.

A single keyword is the whole message ("STOP", "Stop.", "opt out", "PARAR", "Baja"); plain requests ("please
stop texting me", "ya no me manden mensajes") count too, but a sentence that merely contains "stop" or
"parar" ("I want to stop drinking", "quiero dejar de tomar", "quiero parar de beber") does not.
Each word knows its language, so the one confirmation is worded as the person wrote.

Spanish opt-in words leave out INICIO and MENU (menu words) and SI (an answer to "did you mean"): ALTA,
DAR DE ALTA, COMENZAR and REANUDAR resubscribe, like START.
"""

from __future__ import annotations

import re

from bot.core.text import fold

OPT_OUT_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}),
    "es": frozenset({"parar", "cancelar", "detener", "baja", "darmedebaja", "darsedebaja", "dedebaja"}),
}
OPT_IN_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"start", "unstop", "yes"}),
    "es": frozenset({"alta", "dardealta", "darmedealta", "comenzar", "reanudar"}),
}
OPT_OUT_REQUESTS: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"\b(?:stop|quit) (?:texting|messaging|sending|contacting|txting)\b"
        r"|\b(?:dont|do not|don t) (?:text|message|txt|contact) me\b"
        r"|\bunsubscribe me\b|\bremove me from\b|\btake me off\b|\bno more (?:texts|messages)\b"
    ),
    "es": re.compile(
        r"\b(?:ya )?no me (?:manden|mande|envien|envie|escriban|escriba|mandes|envies) (?:mas )?"
        r"(?:mensajes|textos|sms)\b"
        r"|\bno (?:quiero|deseo) (?:recibir )?(?:mas )?(?:mensajes|textos)\b"
        r"|\b(?:dejen|deje|paren|pare) de (?:mandarme|enviarme|escribirme|mandar mensajes|enviar mensajes)\b"
        r"|\b(?:quiero )?(?:darme|darse) de baja\b|\bsaquenme de\b|\bborrenme de\b"
        r"|\bno mas (?:mensajes|textos)\b"
    ),
}
REQUEST_KEYWORDS = {"en": "request", "es": "solicitud"}
"""What is recorded as the keyword of a plain request, by its language."""


def opt_out_keyword(text: str) -> str | None:
    """The opt-out keyword a message is, or None: `"STOP."` -> `"stop"`, `"please stop texting me"` -> `"request"`,
    `"PARAR"` -> `"parar"`, `"ya no me manden mensajes"` -> `"solicitud"`."""
    folded = fold(text)
    compact = folded.replace(" ", "")
    for words in OPT_OUT_WORDS.values():
        if compact in words:
            return compact
    for lang, pattern in OPT_OUT_REQUESTS.items():
        if pattern.search(folded):
            return REQUEST_KEYWORDS[lang]
    return None


def opt_in_keyword(text: str) -> str | None:
    """The opt-in keyword a message is (START, UNSTOP, YES, ALTA, COMENZAR ...), or None."""
    compact = fold(text).replace(" ", "")
    return compact if any(compact in words for words in OPT_IN_WORDS.values()) else None


def keyword_language(keyword: str) -> str | None:
    """The language of an opt-out or opt-in keyword ("parar" -> "es", "stop" -> "en"); None if unknown."""
    for lists in (OPT_OUT_WORDS, OPT_IN_WORDS):
        for lang, words in lists.items():
            if keyword in words:
                return lang
    for lang, recorded in REQUEST_KEYWORDS.items():
        if keyword == recorded:
            return lang
    return None
