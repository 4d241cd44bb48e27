"""Phrases admins write in flow files, compiled once into patterns that read folded text by whole words.

The syntax, kept small enough to read in a YAML list:
- words match whole words, after folding case, accents and punctuation ("Rehab!" is `rehab`);
- `word*` matches a word and its endings (`drink*`: drink, drinks, drinking);
- `(a|b c)` matches one of its choices, each one or more words;
- `...` lets up to three other words stand between (`my son ... using`: "my son is using again").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import fold

GAP_WORDS = 3
_WORD_START = r"(?<!\S)"
_TOKEN = re.compile(r"\(([^()]*)\)|(\.\.\.)|([^\s()]+)")


class PhraseError(ValueError):
    """A phrase that cannot be compiled; the message says why."""


@dataclass(frozen=True)
class Phrase:
    """One phrase as written and its compiled pattern."""

    source: str
    pattern: re.Pattern[str]

    def search(self, folded: str) -> re.Match[str] | None:
        return self.pattern.search(folded)


def compile_phrase(source: str) -> Phrase:
    """Compile one phrase, or raise `PhraseError` saying what is wrong with it."""
    return Phrase(source, re.compile(_regex(source)))


def any_of(phrases: tuple[Phrase, ...]) -> re.Pattern[str]:
    """One pattern that finds any of `phrases` (to ask first, cheaply, whether one of them is there at all).

    The start of a word is asked for once, before the choices, so that at every other position the search fails at
    once instead of trying each phrase there."""
    if not phrases:
        return re.compile(r"(?!)")
    bodies = sorted({p.pattern.pattern.removeprefix(_WORD_START) for p in phrases})
    return re.compile(_WORD_START + "(?:" + "|".join(bodies) + ")")


def first_match(phrases: tuple[Phrase, ...], folded: str) -> tuple[Phrase, re.Match[str]] | None:
    """The earliest phrase found in `folded` (the longest when two start together), with where it stands."""
    best: tuple[Phrase, re.Match[str]] | None = None
    for phrase in phrases:
        hit = phrase.search(folded)
        if hit is None:
            continue
        if best is None or (hit.start(), -hit.end()) < (best[1].start(), -best[1].end()):
            best = (phrase, hit)
    return best


def _regex(source: str) -> str:
    parts: list[str] = []
    gap_before = False
    for choice, gap, word in _TOKEN.findall(source.strip()):
        if gap:
            if not parts or gap_before:
                raise PhraseError(f"{source!r}: '...' must stand between words")
            gap_before = True
            continue
        if choice:
            options = [_words(c) for c in choice.split("|")]
            if not all(options):
                raise PhraseError(f"{source!r}: an empty choice in ( | )")
            piece = "(?:" + "|".join(options) + ")"
        else:
            piece = _words(word)
            if not piece:
                continue
        if parts:
            parts.append(rf"(?: \S+){{0,{GAP_WORDS}}} " if gap_before else " ")
        parts.append(piece)
        gap_before = False
    if gap_before:
        raise PhraseError(f"{source!r}: '...' must stand between words")
    if not parts:
        raise PhraseError(f"{source!r}: no words")
    return _WORD_START + "".join(parts) + r"(?!\S)"


def _words(text: str) -> str:
    """Folded words as a pattern, `*` at a word's end standing for its endings."""
    out = []
    for raw in text.split():
        star = raw.endswith("*")
        folded = fold(raw.rstrip("*"))
        if not folded:
            continue
        out.append(" ".join(re.escape(w) for w in folded.split(" ")) + (r"\S*" if star else ""))
    return " ".join(out)
