"""The immutable shape of a conversation flow, as the engine runs it.

Flow files (YAML, under `flows/`) are read and checked by `loader`; what comes out is these frozen
objects, so a running engine never meets a half-valid flow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.language import SWITCH_WORDS
from bot.core.phrases import Phrase

GLOBAL_WORDS: dict[str, tuple[str, ...]] = {
    "menu": ("menu", "main menu", "start over", "restart", "home", "inicio", "menu principal"),
    "back": ("back", "go back", "previous", "atras", "volver"),
    "help": ("help", "info", "ayuda"),
}
"""Words that work in every state. Opt-out words are handled before the flow and are reserved too."""

RESERVED_WORDS = {w for words in GLOBAL_WORDS.values() for w in words} | {
    "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
    "start", "unstop", "more",
    "parar", "cancelar", "detener", "baja", "alta", "comenzar", "reanudar",
} | set(SWITCH_WORDS)
"""Global words, opt-out and opt-in words (`compliance`) and the words that switch language (`language`)."""

PLACEHOLDERS = {"program", "topic", "county", "hotline", "samhsa"}
EXPECTS = {"choice", "place", "none"}
SHOWS = {"resources", "hotlines"}

VOICE_KEYS: dict[str, str] = {"0": "connect", "*": "repeat", "9": "wait"}
"""Keys that mean the same on every call, in every state: 0 a person, star the menu again, 9 more time."""

VOICE_WORDS: dict[str, tuple[str, ...]] = {
    "connect": (
        "operator", "agent", "representative", "person", "a person", "real person", "human", "someone",
        "talk to someone", "speak to someone", "talk to a person", "speak to a person", "counselor",
        "operador", "operadora", "una persona", "alguien", "hablar con alguien", "hablar con una persona",
        "consejero", "consejera",
    ),
    "repeat": ("repeat", "repeat that", "again", "say that again", "say again", "come again",
               "repetir", "repita", "otra vez", "repitalo", "de nuevo"),
    "wait": ("wait", "more time", "hold on", "hang on", "one moment", "one minute", "just a minute",
             "give me a minute", "give me a moment",
             "espere", "un momento", "un minuto", "mas tiempo", "espereme"),
}
"""What a caller may say instead of pressing 0, star or 9, in every language the bot speaks (folded).
Options on calls must not use these words."""

LANGUAGE_KEY = "8"
"""On calls, at the first menu: continue in the other language (a flow's first menu may not use this digit)."""

OPTION_ACTIONS = {"text_list", "repeat"}
"""`do:` values: send the resources just read by text (calls only), or say the state again."""

MAX_VOICE_LEVELS = 3
"""Menus a caller may meet one inside another (the loader refuses more; `check` limits options to 4)."""

DEFAULT_VOICE_MESSAGES: dict[str, str] = {
    "no_input": "Sorry, I didn't hear anything.",
    "connect_no_choice": "Let me connect you with someone who can help.",
    "dial_failed": "We couldn't connect your call just now.",
    "dial_limit": "We still can't connect your call.",
    "goodbye": "Thank you for calling. Take care of yourself.",
}
"""Messages only calls use; a flow's `voice_messages:` may reword them (and any of `messages:`)."""

DEFAULT_MESSAGES: dict[str, str] = {
    "within": "Also within {miles} miles of {zip}:",
    "also_in": "{place} also reaches into {county}:",
    "which_topic": "Which would help most? Reply with a number:",
    "which_state": "Which {place} do you mean? Reply with a number:",
    "offer_person": "If it's easier to talk it through, a person can help now: call the {hotline}, any time.",
    "go_on": "Reply MENU for the menu, or text your town or ZIP code for local help.",
}
"""Messages a flow may leave out (they came after flows were written); `messages:` rewords them."""


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
    voice_key: str | None = None
    do: str = ""

    def key_for(self, channel: str) -> str:
        """The digit that picks this option on `channel` (calls may use another digit than texts)."""
        return self.voice_key if channel == "voice" and self.voice_key else self.key


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
class Said:
    """Phrases that mean one thing in any state: a topic ("my son is using"), or a question or a moment with words
    of its own to answer first (how to get naloxone; "I slipped").

    `topic` is the topic it chooses (if any), `answer` the words said before anything else, `goto` a state to show
    instead of asking where (a topic that needs no place, like someone to talk to now).
    """

    name: str
    phrases: dict[str, tuple[Phrase, ...]]
    topic: str = ""
    answer: Text | None = None
    goto: str = ""
    line: int = 0
    any_phrase: dict[str, re.Pattern[str]] = field(default_factory=dict)
    """Per language, and under "*" for all of them, one pattern that finds any of the phrases: most messages name
    none, and one search says so."""


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
    voice_messages: dict[str, Text] = field(default_factory=dict)
    understands: tuple[Said, ...] = ()
    """What the flow reads in any state besides its menus: topics by phrase, questions with their answers."""
    any_said: re.Pattern[str] = re.compile(r"(?!)")
    """One pattern that finds any phrase of `understands`, in any language: most messages name none."""

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def message(self, key: str, language: str, channel: str = "sms") -> str:
        """A message in `language`; on calls its spoken form when the flow has one."""
        if channel == "voice":
            spoken = self.voice_messages.get(key)
            if spoken is not None:
                return spoken.get(language, self.default_language)
            if key not in self.messages and key in DEFAULT_VOICE_MESSAGES:
                return DEFAULT_VOICE_MESSAGES[key]
        if key not in self.messages:
            return DEFAULT_MESSAGES[key]
        return self.messages[key].get(language, self.default_language)

    def topic_label(self, topic: str, language: str) -> str:
        text = self.topics.get(topic)
        return text.get(language, self.default_language) if text else topic
