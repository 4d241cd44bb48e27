"""The crisis screen: phrases that mean danger, read before any menu, in every state and channel.

Admins keep the phrases in `flows/crisis.yaml`. A match answers first with 911 (and naloxone for an
overdose) when the danger is immediate, and always with 988 and the Crisis Text Line; the hotlines follow
as on every reply. The conversation is kept, so the person can go on with the menu afterwards.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from bot.core.flow_loader import FlowError, Problem, read_file, read_yaml

LEVELS = ("emergency", "support")
REPLY_KEYS = ("emergency", "overdose", "support", "go_on", "go_on_voice")
_CANONICAL = (
    (re.compile(r"\bo\.?d\.?(?:'e?d|ed)\b"), " overdosed "),
    (re.compile(r"\bo\.d\.?(?=\s|$)"), " od "),
)
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, accents and apostrophes dropped, padded with spaces."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    plain = plain.replace("\u2019", "'").replace("`", "'")
    for pattern, replacement in _CANONICAL:
        plain = pattern.sub(replacement, plain)
    plain = plain.replace("'", "")
    return f" {_SPACES.sub(' ', _NOT_WORD.sub(' ', plain)).strip()} "


@dataclass(frozen=True)
class CrisisMatch:
    """Which kind of danger a message named, and how urgently to answer."""

    category: str
    level: str
    overdose: bool


@dataclass(frozen=True)
class Category:
    name: str
    level: str
    overdose: bool
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class CrisisScreen:
    """Phrase lists per category, the figures of speech that cancel them, and the words of the answer."""

    categories: tuple[Category, ...]
    exceptions: tuple[str, ...]
    replies: dict[str, dict[str, str]]
    languages: tuple[str, ...]
    source: str = ""

    def match(self, text: str) -> CrisisMatch | None:
        """The most urgent category named in `text`, in any language, or None."""
        if not text or not text.strip():
            return None
        padded = normalise(text)
        for phrase in self.exceptions:
            padded = padded.replace(phrase, " | ")
        found: CrisisMatch | None = None
        for category in self.categories:
            if any(phrase in padded for phrase in category.phrases):
                candidate = CrisisMatch(category.name, category.level, category.overdose)
                if found is None or _rank(candidate) > _rank(found):
                    found = candidate
        return found

    def answer(self, match: CrisisMatch, language: str, channel: str) -> str:
        """The words of the crisis answer, most urgent first."""
        lang = language if language in self.languages else self.languages[0]
        parts = []
        if match.level == "emergency":
            parts.append(self.replies["overdose" if match.overdose else "emergency"][lang])
        parts.append(self.replies["support"][lang])
        parts.append(self.replies["go_on_voice" if channel == "voice" else "go_on"][lang])
        return " ".join(parts)


def _rank(match: CrisisMatch) -> tuple[int, int]:
    return (1 if match.level == "emergency" else 0, 1 if match.overdose else 0)


def load_crisis(path: Path) -> CrisisScreen:
    """Read and check the crisis phrase file; problems come back as `file:line: message`."""
    return parse_crisis(read_file(path), str(path))


def parse_crisis(text: str, where: str) -> CrisisScreen:
    """Read and check crisis phrases from YAML text; `where` names it in problems."""
    raw = read_yaml(text, where)
    problems: list[Problem] = []

    def line(node: object, key: object) -> int:
        try:
            return int(node.lc.key(key)[0]) + 1  # type: ignore[attr-defined]
        except (AttributeError, KeyError, TypeError):
            return 1

    if not isinstance(raw, CommentedMap):
        raise FlowError([Problem(where, 1, "the crisis file must be a mapping")])
    languages = tuple(str(x) for x in raw.get("languages") or ["en"])
    categories: list[Category] = []
    cats = raw.get("categories")
    if not isinstance(cats, CommentedMap) or not cats:
        problems.append(Problem(where, line(raw, "categories"), "categories are missing"))
        cats = CommentedMap()
    for name, node in cats.items():
        if not isinstance(node, CommentedMap):
            problems.append(Problem(where, line(cats, name), f"category {name!r} must be a mapping"))
            continue
        level = str(node.get("level", ""))
        if level not in LEVELS:
            problems.append(Problem(where, line(cats, name), f"category {name!r}: level must be one of {list(LEVELS)}"))
        phrases_node = node.get("phrases") or {}
        phrases: list[str] = []
        for lang, items in dict(phrases_node).items():
            if lang not in languages:
                problems.append(
                    Problem(where, line(phrases_node, lang), f"category {name!r}: unknown language {lang!r}")
                )
            for item in items or []:
                norm = normalise(str(item))
                if norm.strip():
                    phrases.append(norm)
        if not phrases:
            problems.append(Problem(where, line(cats, name), f"category {name!r} has no phrases"))
        categories.append(Category(str(name), level, bool(node.get("overdose", False)), tuple(phrases)))
    exceptions = tuple(
        normalise(str(p)) for items in dict(raw.get("except") or {}).values() for p in (items or []) if str(p).strip()
    )
    replies: dict[str, dict[str, str]] = {}
    replies_node = raw.get("replies") or CommentedMap()
    for key in REPLY_KEYS:
        texts = replies_node.get(key)
        if not isinstance(texts, CommentedMap):
            problems.append(Problem(where, line(raw, "replies"), f"replies.{key} is missing"))
            continue
        for lang in languages:
            if not str(texts.get(lang) or "").strip():
                problems.append(Problem(where, line(replies_node, key), f"replies.{key} has no {lang!r} text"))
        replies[key] = {str(k): str(v) for k, v in texts.items()}
    for lang, answer in replies.get("support", {}).items():
        if "988" not in answer:
            problems.append(Problem(where, line(replies_node, "support"), f"replies.support.{lang} must name 988"))
    for key in ("emergency", "overdose"):
        for lang, answer in replies.get(key, {}).items():
            if "911" not in answer:
                problems.append(Problem(where, line(replies_node, key), f"replies.{key}.{lang} must name 911"))
    if problems:
        raise FlowError(problems)
    return CrisisScreen(tuple(categories), exceptions, replies, languages, where)
