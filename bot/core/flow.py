"""The immutable shape of a conversation flow, as the engine runs it.

Flow files (YAML, under `flows/`) are read and checked by `flow_loader`; what comes out is these frozen
objects, so a running engine never meets a half-valid flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GLOBAL_WORDS: dict[str, tuple[str, ...]] = {
    "menu": ("menu", "main menu", "start over", "restart", "home", "inicio", "menu principal"),
    "back": ("back", "go back", "previous", "atras", "volver"),
    "help": ("help", "info", "ayuda"),
}
"""Words that work in every state. Opt-out words are handled before the flow and are reserved too."""

RESERVED_WORDS = {w for words in GLOBAL_WORDS.values() for w in words} | {
    "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
    "start", "unstop", "more",
}

PLACEHOLDERS = {"program", "topic", "county", "hotline", "samhsa"}
EXPECTS = {"choice", "place", "none"}
SHOWS = {"resources", "hotlines"}


@dataclass(frozen=True)
class Text:
    """A string in every language the flow speaks."""

    by_language: dict[str, str]

    def get(self, language: str, default_language: str) -> str:
        return self.by_language.get(language) or self.by_language.get(default_language, "")


@dataclass(frozen=True)
class Option:
    """A menu choice: its keypad digit, what it is called, the words that pick it, where it goes."""

    key: str
    label: Text
    goto: str
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    spoken: Text | None = None
    sets: dict[str, str] = field(default_factory=dict)
    channels: tuple[str, ...] = ("sms", "voice")
    line: int = 0


@dataclass(frozen=True)
class State:
    """One step of the conversation."""

    name: str
    text: Text
    speech: Text | None = None
    options: tuple[Option, ...] = ()
    expect: str = "choice"
    goto: str | None = None
    show: str | None = None
    sets: dict[str, str] = field(default_factory=dict)
    line: int = 0

    def options_for(self, channel: str) -> tuple[Option, ...]:
        return tuple(o for o in self.options if channel in o.channels)


@dataclass(frozen=True)
class Flow:
    """A whole validated flow: its states, texts and topic names, in every language it speaks."""

    name: str
    start: str
    languages: tuple[str, ...]
    states: dict[str, State]
    messages: dict[str, Text]
    topics: dict[str, Text]
    results_state: str
    source: str = ""

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def message(self, key: str, language: str) -> str:
        return self.messages[key].get(language, self.default_language)

    def topic_label(self, topic: str, language: str) -> str:
        text = self.topics.get(topic)
        return text.get(language, self.default_language) if text else topic
