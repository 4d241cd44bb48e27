"""The channel-neutral answer the engine gives; the SMS and voice renderers turn it into words.

`Reply` cannot be built without the hotlines: the footer is part of its type, not a flow author's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.directory import Phone, Resource


@dataclass(frozen=True)
class Hotlines:
    """The lines every reply carries: the provider's 24/7 line and SAMHSA's National Helpline."""

    program: str
    hotline_name: str
    hotline: Phone
    samhsa_name: str
    samhsa: Phone
    crisis_line: str = "In crisis? Call or text 988. Emergency: 911"


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

    @property
    def spoken(self) -> str:
        return self.speech or self.text

    @property
    def resources(self) -> tuple[Resource, ...]:
        return tuple(r for s in self.sections for r in s.resources)
