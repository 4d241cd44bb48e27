"""Write bot/core/spelled_words.txt: ordinary words a near-spelling search would take for a US county or town.

    python scripts/spelled_words.py [ENGLISH_WORDS SPANISH_WORDS]

Reads Debian's word lists (packages wamerican and wspanish: /usr/share/dict/american-english and
/usr/share/dict/spanish by default), folds each lower-case word as messages are folded, and keeps those of four
letters or more that `Gazetteer`'s near-spelling search scores at or above its asking threshold against some
county or town name of any state, and that are not themselves such a name, or its one word besides plain ones
("villages": The Villages).
A message made only of these words and the plain words is spelled right, so it is not read as a misspelled place.
Run it again when the ZIP table (the `zipcodes` package) or the thresholds in bot/core/places.py change.
"""

from __future__ import annotations

import sys
from multiprocessing import Pool
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.core.places import ASK_SCORE, SHORT_ASK_SCORE, Gazetteer, content_words, county_alias
from bot.core.text import fold

OUT = Path(__file__).resolve().parent.parent / "bot" / "core" / "spelled_words.txt"
SOURCES = ("/usr/share/dict/american-english", "/usr/share/dict/spanish")
HEADER = """\
# Ordinary words that the near-spelling search of bot/core/places.py would take for a US county or town: lower-case
# English and Spanish words of Debian's word lists (packages wamerican 2020.12.07 and wspanish 1.0.30), folded,
# of four letters or more, that score at or above the asking threshold against a county or town name of the US
# ZIP table (the `zipcodes` package) and are neither such a name nor its one word besides plain ones ("villages":
# The Villages). "scared" is not a misspelled Carey, OH, nor "marijuana" Marianna, FL. Written by
# scripts/spelled_words.py; run it again rather than editing by hand.
"""


def candidates(paths: tuple[str, ...]) -> set[str]:
    words: set[str] = set()
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            word = line.strip()
            if not word or not word.isalpha() or word != word.lower():
                continue  # proper nouns and possessives ("Carey", "cat's") are not ordinary words
            folded = fold(word)
            if len(folded) >= 4 and folded.isalpha():
                words.add(folded)
    return words


_CHOICES: list[str] = []


def _near_a_place(word: str) -> bool:
    cutoff = ASK_SCORE if len(word) > 5 else SHORT_ASK_SCORE
    return process.extractOne(word, _CHOICES, scorer=fuzz.ratio, score_cutoff=cutoff) is not None


def main(argv: list[str]) -> int:
    places = Gazetteer.from_zipcodes()
    names = {county_alias(c.name) for c in places.counties.values()}
    names |= set(places._town_alias)  # every town's aliases, as the near-spelling search's pools hold them
    _CHOICES[:] = sorted(names)
    # A name that is one word besides plain ones ("The Villages") is that word's exact reading, not a typo of it.
    named = names | {" ".join(content_words(name)) for name in names}
    words = sorted(w for w in candidates(tuple(argv) or SOURCES) if w not in named)
    with Pool() as pool:  # forked workers share the names; one word costs a few milliseconds
        flags = pool.map(_near_a_place, words, chunksize=500)
    near = [w for w, flag in zip(words, flags, strict=True) if flag]
    OUT.write_text(HEADER + "".join(f"{w}\n" for w in near), encoding="utf-8")
    print(f"{len(near)} of {len(words)} words written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
