"""The channel-neutral answer the engine gives; the SMS and voice renderers turn it into words.

`Reply` cannot be built without the hotlines: the footer is part of its type, not a flow author's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.core.directory import Phone, Resource

CRISIS_LINES: dict[str, str] = {
    "en": "In crisis? Call or text 988. Emergency: 911",
    "es": "¿En crisis? 988: llame y marque 2, o mande AYUDA. Emergencias: 911",
}
"""The last line of every text, by language; in Spanish it says how 988 answers in Spanish."""


@dataclass(frozen=True)
class LineNames:
    """How the lines are named in one language (their numbers are the same in every language)."""

    hotline_name: str
    samhsa_name: str
    crisis_line: str


@dataclass(frozen=True)
class Hotlines:
    """The lines every reply carries: the provider's 24/7 line and SAMHSA's National Helpline.

    The names are in the default language; `names` holds them in the others (`in_language`).
    """

    program: str
    hotline_name: str
    hotline: Phone
    samhsa_name: str
    samhsa: Phone
    crisis_line: str = CRISIS_LINES["en"]
    names: tuple[tuple[str, LineNames], ...] = ()

    def in_language(self, language: str) -> Hotlines:
        """The same lines, named in `language` when there are names for it."""
        for lang, names in self.names:
            if lang == language:
                return replace(
                    self,
                    hotline_name=names.hotline_name,
                    samhsa_name=names.samhsa_name,
                    crisis_line=names.crisis_line,
                    names=(),
                )
        return self


@dataclass(frozen=True)
class Choice:
    """One numbered menu option as shown ("1 Local peer support") or spoken ("For ..., press 1")."""

    key: str
    label: str
    spoken: str


@dataclass(frozen=True)
class Section:
    """A titled group of resources in a reply ("Local peer support in Volusia County, FL:")."""

    title: str
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class TextedList:
    """Resources a caller asked to receive by text: what to send, and what makes the request unique in a call."""

    title: str
    sections: tuple[Section, ...]
    key: str


@dataclass(frozen=True)
class Reply:
    """What to tell the person, before channel formatting.

    On calls: `action` is "" (listen for the next choice), "connect" (put the caller through to the 24/7
    line) or "hangup"; `crisis` means read every line in full (911, 988, the 24/7 line and SAMHSA);
    `misses` counts the tries in a row that were silent or not understood; `wait` gives the caller more
    time; `texted` is a list the caller asked to get by text, which the web layer hands to a job.
    `hotlines` names the lines in the default language; the renderers name them in `language`.
    """

    hotlines: Hotlines
    text: str = ""
    speech: str = ""
    notice: str = ""
    choices: tuple[Choice, ...] = ()
    sections: tuple[Section, ...] = ()
    more: int = 0
    hint: str = ""
    expect: str = "choice"
    crisis: bool = False
    end: bool = False
    tags: tuple[str, ...] = field(default=())
    action: str = ""
    misses: int = 0
    wait: bool = False
    texted: TextedList | None = None
    language: str = "en"
    """The language to word the reply in (the fixed wording, the lines' names, on calls the voice)."""
    offer_language: str = ""
    """At the first menu: the other language, offered in that language ("Para español, ...")."""

    @property
    def spoken(self) -> str:
        return self.speech or self.text

    @property
    def resources(self) -> tuple[Resource, ...]:
        return tuple(r for s in self.sections for r in s.resources)
