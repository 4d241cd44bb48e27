"""Reading a message beyond the menu's own words: a need said in words, a question, a place, and why.

The crisis screen (`safety`) has already read the message, and the menu's digits and keywords come first (the
engine's job); this module reads what is left, the way people write: "my son is using", "any AA near me?",
"NA meetings near Port Orange", "can I buy Narcan at a pharmacy?". The phrases are the flow's (`topics:` and
`answers:` in `flows/main.yaml`, per language); places are the gazetteer's. A message's own language is read
first, then the flow's others, since people mix them ("AA" in a Spanish sentence).

Every reading says why (`Reading.why`): which phrase chose which topic, which rule found which place, so
`helpline chat` can show it and a transcript can pin it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass

from bot.core.flows.model import Flow, Said
from bot.core.phrases import first_match
from bot.core.places import Gazetteer, PlaceMatch

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Heard:
    """One topic or answer found in a message, and the phrase (as the flow writes it) that found it."""

    said: Said
    phrase: str


@dataclass(frozen=True)
class Reading:
    """What a message says besides menu words: an answer to give first, the topics it names, the place it names."""

    answer: Heard | None
    topics: tuple[Heard, ...]
    place: PlaceMatch
    why: tuple[str, ...] = ()

    @property
    def names_place(self) -> bool:
        return self.place.found or bool(self.place.candidates) or self.place.zip_unknown


def read_words(
    flow: Flow,
    places: Gazetteer,
    folded: str,
    language: str,
    prefer_states: Sequence[Iterable[str]] = (),
    served: Callable[[str], Set[str]] = lambda topic: frozenset(),
    topic: str = "",
) -> Reading:
    """Read a folded message: the flow's phrases in `language` first, then its other languages, then the place in
    what the phrases left (`served(topic)` gives the counties with listings for a topic, to settle a tie)."""
    hits: list[tuple[int, Heard, tuple[int, int]]] = []
    languages = (language, *(lang for lang in flow.languages if lang != language))
    saids = flow.understands if flow.any_said.search(folded) else ()
    for said in saids:
        anywhere = said.any_phrase.get("*")
        if anywhere is not None and anywhere.search(folded) is None:
            continue
        for lang in languages:
            quick = said.any_phrase.get(lang)
            if quick is None or quick.search(folded) is None:
                continue
            found = first_match(said.phrases.get(lang, ()), folded)
            if found is not None:
                phrase, where = found
                hits.append((where.start(), Heard(said, phrase.source), where.span()))
                break
    hits = _longest_first(hits)
    answer = next((h for _, h, _ in hits if h.said.answer is not None), None)
    topics: list[Heard] = []
    for _, heard, _ in hits:
        if heard.said.topic and all(t.said.topic != heard.said.topic for t in topics):
            topics.append(heard)
    rest = _without([span for _, _, span in hits], folded)
    chosen = topics[0].said.topic if len(topics) == 1 else topic
    place = places.resolve(rest, prefer_states, served(chosen)) if rest else PlaceMatch()
    why = [
        f"{'answer' if h.said.answer else 'topic'} {h.said.name!r}: {folded[a:b]!r}, by the phrase {_short(h.phrase)!r}"
        for _, h, (a, b) in hits
    ]
    if place.found:
        assert place.county is not None
        named = f"{place.town.label} in " if place.town is not None else ""
        why.append(f"place {named}{place.county.label} ({place.why})")
    elif place.candidates:
        why.append(f"place unsure, asking: {', '.join(c.label for c in place.candidates)} ({place.why})")
    elif place.zip_unknown:
        why.append(f"ZIP {place.zip_code} is not in the ZIP table")
    return Reading(answer, tuple(topics), place, tuple(why))


def _short(phrase: str, width: int = 48) -> str:
    return phrase if len(phrase) <= width else phrase[: width - 3] + "..."


def _longest_first(hits: list[tuple[int, Heard, tuple[int, int]]]) -> list[tuple[int, Heard, tuple[int, int]]]:
    """Where two phrases overlap the longer one counts ("my brother won't stop drinking" is about family, not a
    wish to stop drinking); the rest in the order they stand."""
    kept: list[tuple[int, Heard, tuple[int, int]]] = []
    for hit in sorted(hits, key=lambda h: (h[2][0] - h[2][1], h[0])):
        start, end = hit[2]
        # The very same words claimed by two topics ("I need a bed": shelter, or a detox bed?) are asked about.
        if all(end <= s or start >= e or (s, e) == (start, end) for _, _, (s, e) in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h[0])


def _without(spans: list[tuple[int, int]], text: str) -> str:
    """`text` less the phrases found in it, so "AA meetings Port Orange" leaves the place alone."""
    if not spans:
        return text
    kept = list(text)
    for start, end in spans:
        kept[start:end] = " " * (end - start)
    return _SPACES.sub(" ", "".join(kept)).strip()
