"""Which language a conversation is in: read from the first message, or asked for by name.

The rule of `detect`, on the folded message (case, accents and punctuation forgiven):

- A *strong* Spanish word (one that is not also an English word or a Florida place name: "buenas",
  "necesito", "ocupo", "gracias", "quiero", "ayuda", "hijo" ...) or the marks only Spanish writes
  (ñ, ¿, ¡) count 2; a *weak* one ("hola", "de", "la", "mi", "por", "para" ...) counts 1.
  English words count the same way ("hello", "need", "want", "my" strong; "hi", "the", "for" weak).
- A language is detected when it has at least one strong word (or mark) and outscores the other.
  Otherwise the answer is None and the conversation keeps the default language.

So "hola", "ok", "AA", "De Soto" or a county alone stay in the default language (weak words at most),
"buenas, ocupo ayuda para mi papá" is Spanish, and "hola, I need help" is English.

`switch` reads the words that change language at any point: ESPAÑOL / ESPANOL / SPANISH, and ENGLISH /
INGLÉS / INGLES back, alone or with a polite word around them ("en español por favor").
"""

from __future__ import annotations

import re

from bot.core.text import fold

SWITCH_WORDS: dict[str, str] = {"espanol": "es", "spanish": "es", "english": "en", "ingles": "en"}
"""Whole-message words that switch the conversation's language (folded: ESPAÑOL -> espanol)."""

_SWITCH = re.compile(
    r"^(?:(?:en|in|por favor|please|quiero|i want|habla|hablo|speak|do you speak)\s+)*"
    r"(" + "|".join(SWITCH_WORDS) + r")"
    r"(?:\s+(?:por favor|please|pls|porfa|gracias|thanks))*$"
)

_MARKS = re.compile(r"[ñÑ¿¡]")

_STRONG: dict[str, frozenset[str]] = {
    "es": frozenset(
        """
        buenas buenos buen dias tardes noches gracias necesito ocupo quiero quisiera busco buscando ayuda
        ayudeme ayudenme ayudarme puede pueden usted ustedes hijo hija hijos hijas esposo esposa mama papa
        hermano hermana familia alguien hablar donde como estoy tengo vivo soy nosotros informacion
        apoyo reuniones grupo tratamiento drogas bebida tomar beber dejar cerca condado gusto
        saludos porfavor porfa tambien pero porque cual cuando mucho poco estado vida salir adelante
        """.split()
    ),
    "en": frozenset(
        """
        hello hey need want looking please thanks thank help my daughter husband wife mom dad brother
        sister family someone talk where how am have live near support meetings group treatment drugs
        drinking quit information what when can could would you your with about
        """.split()
    ),
}
"""Words that mark a language on their own (a Florida place name or a word both languages use is never here)."""

_WEAK: dict[str, frozenset[str]] = {
    "es": frozenset("hola de del la las el los mi mis por para con que en y un una es su sus si".split()),
    "en": frozenset("hi the an to for and of is in it im i".split()),
}
"""Words that only tip a mixed message: "hola", "de" or "la" alone (or in "De Soto") decide nothing."""


def detect(text: str) -> str | None:
    """"es" or "en" when the message is clearly in that language (see the module's rule), else None."""
    scores = {"es": 2 if _MARKS.search(text) else 0, "en": 0}
    strong = {"es": scores["es"] > 0, "en": False}
    for word in fold(text).split():
        for lang in scores:
            if word in _STRONG[lang]:
                scores[lang] += 2
                strong[lang] = True
            elif word in _WEAK[lang]:
                scores[lang] += 1
    for lang, other in (("es", "en"), ("en", "es")):
        if strong[lang] and scores[lang] > scores[other]:
            return lang
    return None


def switch(folded: str) -> str | None:
    """The language a folded message asks for by name ("espanol", "in english please"), or None."""
    found = _SWITCH.match(folded)
    return SWITCH_WORDS[found.group(1)] if found else None


def offered(languages: tuple[str, ...], current: str) -> str:
    """The language a menu offers to switch to: the other one of the flow's first two ("" with one language)."""
    if len(languages) < 2:
        return ""
    return languages[1] if current == languages[0] else languages[0]
