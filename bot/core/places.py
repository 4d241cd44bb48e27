"""Turning "volusa", "St. Johns county", "Port Orange" or "32114" into a county, offline.

Counties, towns and ZIP codes come from the `zipcodes` package (the US ZIP table it ships): every ZIP's city and
its acceptable city names are towns, each in the county (or counties) its ZIPs lie in. Names are matched exactly
first (after folding case, accents, punctuation, "County" and the usual abbreviations: St/Saint, Ft/Fort, Pt/Port,
Bch/Beach, Spgs/Springs, Mt/Mount, Hts/Heights), then by fuzzy ratio, and a doubtful match becomes a question
rather than a guess.

The rule for finding a place inside a sentence, so that an ordinary word does not hijack it:
- a 5-digit ZIP anywhere is a place;
- the whole message, less greetings and fillers at its edges ("i live in", "please") and less a state at its end,
  is a place name; a lone ordinary English word that names only towns ("hope", "sunrise") needs its state
  ("Hope AR") or a cue ("I live in Hope");
- otherwise a name counts only right after a cue: strong ones ("live in", "staying in", "near", "from",
  "close to", "vivo en" ...) take any name, weak ones ("in", "at") take names that are not ordinary words; a
  state may follow the name ("in Akron, Ohio"); and a name followed by "county" counts anywhere.
So "wish I could sleep and never wake up" names no place (Wake County needs "county" or a cue), nor does
"there is no hope"; "NA meetings near Port Orange" does.

A typo is forgiven only where there is one: a message whose one word (besides plain ones) is an ordinary word
spelled right ("im scared", "marijuana": `spelled_words.txt`) is not a near spelling of Carey or Marianna. Two
or more words are still compared ("palm coats" is Palm Coast).
"""

from __future__ import annotations

import math
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from importlib import resources
from itertools import groupby
from operator import attrgetter

import zipcodes
from rapidfuzz import fuzz, process

from bot.core.directory import County
from bot.core.text import fold

_ZIP = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")
_DROP_WORDS = {"county", "parish", "borough", "co", "cnty", "condado"}
_ABBREVIATIONS = {
    "saint": "st", "sainte": "ste", "fort": "ft", "port": "pt", "beach": "bch", "springs": "spgs",
    "spring": "spg", "mount": "mt", "heights": "hts", "san": "san", "santa": "santa",
}  # fmt: skip
_EDGE_FILLER = {
    "i", "im", "me", "live", "living", "lives", "in", "at", "near", "the", "my", "is", "zip", "code", "zipcode",
    "area", "from", "of", "for", "please", "pls", "plz", "thanks", "thank", "you", "hi", "hello", "hey", "ok",
    "okay", "um", "am", "a", "around", "now", "currently", "staying", "stay", "located", "here", "we", "were",
    "are", "our", "he", "she", "they", "en", "vivo", "estoy", "cerca", "mi", "es",
}  # fmt: skip
_STRONG_CUES = (
    "live in", "living in", "lives in", "staying in", "stay in", "stays in", "located in", "moved to", "move to",
    "from", "near", "nearby", "close to", "around", "outside", "outside of", "town of", "city of", "county of",
    "zip", "zip code", "zipcode", "vivo en", "vive en", "cerca de", "estoy en", "estamos en", "vivimos en",
)  # fmt: skip
_WEAK_CUES = ("in", "at", "by", "en")
_CUES = sorted(((tuple(c.split()), True) for c in _STRONG_CUES), key=lambda c: -len(c[0])) + [
    ((c,), False) for c in _WEAK_CUES
]
_CUES_BY_FIRST_WORD: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
for _words, _strong in _CUES:  # longest first, as _CUES is ordered
    _CUES_BY_FIRST_WORD.setdefault(_words[0], []).append((_words, _strong))
_SKIP_AFTER_CUE = {"the", "of", "el", "la"}
_PLAIN_WORDS = frozenset(
    """a about after again all also am an and any anyone anything are around as ask at be been before being but by
    can cant could day did do does dont for get getting go going good got had has have having he hello help her here
    hes hey hi him his how i id if ill im in info is it its just know like looking love me more morning my need
    needs night no not now of off ok okay on one or our out please pls really right said say see she so some
    someone something sorry still sure talk tell thank thanks that thats the them then there they thing think this
    time to today tomorrow tonight try um up us very want wanna was we well were what whats when where which who
    why will with would yeah yes yet you your
    ayuda ayudar bien buenas buenos como con de del donde el ella en es esta estoy gracias hola la las lo los me mi
    necesito no para por que quiero si su tengo un una y yo""".split()
)
"""Words no typo of a place name is made of alone: a message of only these ("I need help now") is not compared with
every town name, which costs more than all the rest of reading it."""
ACCEPT_SCORE = 88.0
ASK_SCORE = 72.0
SHORT_ASK_SCORE = 80.0
ASK_MARGIN = 6.0
"""A doubtful spelling asks about the names that score within this much of the best one, not every near name."""
FUZZY_MEMORY = 4096
TOWN_SPAN_MILES = 25.0
"""A town's ZIPs in another county within this distance of its centre are one town across a county line; farther
ones are another town of the same name (asked about, not merged)."""

US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
}  # fmt: skip
_STATE_CODES = {code.lower(): code for code in US_STATES.values()}


class _GroupedWords:
    """A long word list held as one string per first two letters: 80,000 words as a frozenset take about 10 MB of
    every worker, this about 0.7 MB, and a lookup still reads only one short string."""

    def __init__(self, words: Iterable[str]):
        groups: dict[str, list[str]] = defaultdict(list)
        for word in words:
            groups[word[:2]].append(word)
        self._groups = {start: "\n" + "\n".join(group) + "\n" for start, group in groups.items()}

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and f"\n{word}\n" in self._groups.get(word[:2], "")


def _word_lines(name: str) -> Iterator[str]:
    text = resources.files("bot.core").joinpath(name).read_text(encoding="utf-8")
    return (w for line in text.splitlines() if (w := line.strip()) and not w.startswith("#"))


ORDINARY_WORDS = frozenset(_word_lines("ordinary_place_words.txt"))
"""Single-word town names that are also ordinary English words (`ordinary_place_words.txt` says where from)."""

SPELLED_WORDS = _GroupedWords(_word_lines("spelled_words.txt"))
"""Ordinary English and Spanish words near the spelling of some county or town ("scared", Carey; "marijuana",
Marianna): spelled right, so not a misspelled place (`spelled_words.txt` says where from)."""


def place_alias(name: str) -> str:
    """The folded form two spellings of one place share: `"Pt. Orange"` and `"Port Orange"` -> `"pt orange"`."""
    return " ".join(_ABBREVIATIONS.get(w, w) for w in fold(name).split(" ") if w)


def county_alias(name: str) -> str:
    """The folded form two spellings of one county share: `"St. Johns County"` -> `"st johns"`."""
    return " ".join(w for w in place_alias(name).split(" ") if w and w not in _DROP_WORDS)


@dataclass(frozen=True, slots=True)
class Town:
    """A town, city or other place name of the ZIP table, and the county (or counties) it lies in.

    `counties` holds `County.key`s, the one with most of its ZIPs first; `zip_code` is its ZIP nearest its centre,
    from which distances are measured.
    """

    alias: str
    name: str
    state: str
    counties: tuple[str, ...]
    zip_code: str
    number: int = 0
    """Which of the same-named towns of one state this is (most are the only one)."""

    @property
    def key(self) -> str:
        """Stable identity, for a pending "did you mean": `town:FL:pt orange:0`."""
        return f"town:{self.state}:{self.alias}:{self.number}"

    @property
    def label(self) -> str:
        return f"{self.name}, {self.state}"


Place = County | Town


@dataclass(frozen=True)
class PlaceMatch:
    """The outcome of reading a place from a message.

    `county` is set when we are sure (with `town` when a town named it); `candidates` when we should ask "did you
    mean" (counties or towns); `zip_code` when a ZIP was given (known or not). `why` says which rule found it.
    All empty means the text named no place we know.
    """

    county: County | None = None
    candidates: tuple[Place, ...] = ()
    zip_code: str | None = None
    zip_unknown: bool = False
    town: Town | None = None
    why: str = ""

    @property
    def found(self) -> bool:
        return self.county is not None


_NO_PLACE = PlaceMatch()


@dataclass
class Gazetteer:
    """All US counties and towns, their ZIP codes and centre points, with the states this helpline serves first."""

    counties: dict[str, County] = field(default_factory=dict)
    centroids: dict[str, tuple[float, float]] = field(default_factory=dict)
    zip_to_county: dict[str, str] = field(default_factory=dict)
    zip_points: dict[str, tuple[float, float]] = field(default_factory=dict)
    _by_alias: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _town_alias: dict[str, tuple[Town, ...]] = field(default_factory=dict)
    _pools: dict[tuple[frozenset[str], bool], tuple[dict[str, list[str]], list[str], int]] = field(
        default_factory=dict
    )
    _town_index: dict[str, list[tuple[str, str]]] | None = None
    _scored: dict[tuple[str, int], list[tuple[str, float]]] = field(default_factory=dict)

    @classmethod
    def from_zipcodes(cls, fips: dict[str, str] | None = None) -> Gazetteer:
        """Build from the ZIP table shipped by `zipcodes`; `fips` maps `County.key` to FIPS where known."""
        return cls.from_rows(zipcode_rows(), fips)

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, object]], fips: dict[str, str] | None = None, towns: Iterable[Town] = ()
    ) -> Gazetteer:
        """Build from rows shaped like `zipcodes`' (zip_code, state, county, lat, long, city, acceptable_cities).

        `towns`, when given (as `each_town` gave them from the same rows), are taken as they are: working them out
        from the city names makes tens of MB of short-lived objects that a process never gives back.
        """
        fips = fips or {}
        given: dict[str, tuple[Town, ...]] = {}
        for alias, group in groupby(towns, key=attrgetter("alias")):  # each_town gives one alias's towns together
            given[alias] = (*given.get(alias, ()), *group)
        gaz = cls()
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        # (alias, state) -> display name and the ZIPs of that name, per county; primary city names first.
        named: dict[tuple[str, str], tuple[str, dict[str, list[str]]]] = {}
        aliases: dict[str, str] = {}
        later: list[tuple[str, str, str, str]] = []
        for row in rows:
            name, state = str(row.get("county") or ""), str(row.get("state") or "")
            if not name or not state:
                continue
            # One shared key string per county: 42,000 ZIPs must not hold 42,000 copies of it.
            key = sys.intern(f"{state}:{name.lower()}")
            if key not in gaz.counties:
                gaz.counties[key] = County(name=name, state=state, fips=fips.get(key))
                gaz._by_alias[county_alias(name)].append(key)
            zip_code = str(row["zip_code"])
            gaz.zip_to_county[zip_code] = key
            city = "" if given else str(row.get("city") or "")
            if city:
                _add_town_zip(named, aliases, city, state, key, zip_code)
                for other in _city_list(row.get("acceptable_cities")):
                    later.append((other, state, key, zip_code))
            try:
                lat, lon = float(row["lat"]), float(row["long"])  # type: ignore[arg-type]
            except (KeyError, TypeError, ValueError):
                continue
            gaz.zip_points[zip_code] = (lat, lon)
            acc = sums[key]
            acc[0] += lat
            acc[1] += lon
            acc[2] += 1
        for other, state, key, zip_code in later:
            _add_town_zip(named, aliases, other, state, key, zip_code)
        gaz.centroids = {k: (v[0] / v[2], v[1] / v[2]) for k, v in sums.items() if v[2]}
        for (alias, state), (display, by_county) in named.items():
            given[alias] = (*given.get(alias, ()), *_towns_of(alias, state, display, by_county, gaz.zip_points))
        gaz._town_alias = given
        return gaz

    def zip_point(self, zip_code: str) -> tuple[float, float] | None:
        """The latitude and longitude the ZIP table gives for a ZIP code (its centre), if any."""
        return self.zip_points.get(zip_code)

    def county_for_zip(self, zip_code: str) -> County | None:
        """The county a ZIP code lies in (its main county, for ZIPs that cross a line)."""
        key = self.zip_to_county.get(zip_code)
        return self.counties.get(key) if key else None

    def place(self, key: str) -> Place | None:
        """The county or town of a key (`FL:volusia county`, `town:FL:pt orange:0`)."""
        if not key.startswith("town:"):
            return self.counties.get(key)
        _, state, rest = key.split(":", 2)
        alias, _, number = rest.rpartition(":")
        for town in self._town_alias.get(alias, ()):
            if town.state == state and str(town.number) == number:
                return town
        return None

    def warm(self, prefer_states: Sequence[Iterable[str]]) -> None:
        """Build the fuzzy search's pool of the tiers' names now (tens of milliseconds), not on someone's message."""
        tiers = [set(t) for t in prefer_states if t]
        states = set().union(*tiers) if tiers else set()
        self._pool(states)
        self._pool(states, towns=True)

    def each_town(self) -> Iterator[Town]:
        """Every town of the ZIP table, once."""
        for towns in self._town_alias.values():
            yield from towns

    def resolve(
        self, text: str, prefer_states: Sequence[Iterable[str]] = (), served: Iterable[str] = ()
    ) -> PlaceMatch:
        """Read a county, town or ZIP from a message, by the rule in this module's docstring.

        `prefer_states` is a list of tiers (say, the provider's home state, then other states with
        listings): an exact name is looked for tier by tier, then anywhere in the US; typos are only
        forgiven within the tiers. Among equal names, counties in `served` come first.
        """
        zip_hit = _ZIP.search(text)
        if zip_hit:
            county = self.county_for_zip(zip_hit.group(1))
            if county is None:
                return PlaceMatch(zip_code=zip_hit.group(1), zip_unknown=True, why="zip")
            return PlaceMatch(county=county, zip_code=zip_hit.group(1), why="zip")
        tokens = [w for w in fold(text).split(" ") if w]
        # The directory hands over a shared frozenset of a few thousand keys: no need to copy it per message.
        served_set: Set[str] = served if isinstance(served, (set, frozenset)) else set(served)
        tiers = [set(t) for t in prefer_states if t]
        whole = _strip_edges(tokens)
        if 0 < len(whole) <= 6:
            state, rest = _split_state(whole)
            if state and rest:
                found = self._named(rest, [{state}], served_set, ordinary_ok=True, why="name with its state")
                if found.found or found.candidates:
                    return found
                return self._fuzzy(" ".join(rest), {state}, served_set)
            found = self._named(whole, [*tiers, set()], served_set, ordinary_ok=False, why="named alone")
            if found.found or found.candidates:
                return found
        for start, strong in _after_cues(tokens):
            found = self._after(tokens, start, strong, tiers, served_set)
            if found.found or found.candidates:
                return found
        county_word = self._before_county_word(tokens, tiers, served_set)
        if county_word.found or county_word.candidates:
            return county_word
        if 0 < len(whole) <= 4:
            return self._fuzzy(" ".join(whole), set().union(*tiers) if tiers else set(), served_set)
        tail = _tail_after_strong_cue(tokens)
        if 0 < len(tail) <= 3:
            return self._fuzzy(" ".join(tail), set().union(*tiers) if tiers else set(), served_set)
        return _NO_PLACE

    def nearest(self, origin: County, keys: Iterable[str], limit: int = 2) -> list[tuple[County, float]]:
        """The closest of `keys` to `origin`, by centre point, with distance in miles."""
        here = self.centroids.get(origin.key)
        if here is None:
            return []
        ranked = sorted(
            (miles(here, self.centroids[k]), k) for k in keys if k in self.centroids and k != origin.key
        )
        return [(self.counties[k], d) for d, k in ranked[:limit]]

    def _after(
        self, tokens: list[str], start: int, strong: bool, tiers: list[set[str]], served: Set[str]
    ) -> PlaceMatch:
        """A name starting at `tokens[start]` (right after a cue), longest first, with a state after it if any."""
        while start < len(tokens) and tokens[start] in _SKIP_AFTER_CUE:
            start += 1
        for size in range(min(4, len(tokens) - start), 0, -1):
            name = tokens[start : start + size]
            state = _leading_state(tokens[start + size : start + size + 2])
            cue = "after a cue" if strong else "after 'in' or 'at'"
            if state:
                found = self._named(name, [{state}], served, ordinary_ok=True, why=f"{cue}, with its state")
            else:
                found = self._named(name, [*tiers, set()], served, ordinary_ok=strong, why=cue)
            if found.found or found.candidates:
                return found
        return _NO_PLACE

    def _before_county_word(self, tokens: list[str], tiers: list[set[str]], served: Set[str]) -> PlaceMatch:
        """`... putnam county ...`: a county name said with the word "county", anywhere in a sentence."""
        for end, word in enumerate(tokens):
            if word not in ("county", "parish", "condado"):
                continue
            for size in range(min(3, end), 0, -1):
                keys = self._county_keys(tokens[end - size : end], [*tiers, set()])
                if keys:
                    return self._decide(keys, served, "a name with 'county'")
        return _NO_PLACE

    def _county_keys(self, name: list[str], tiers: list[set[str]]) -> list[str]:
        alias = county_alias(" ".join(name))
        hits = self._by_alias.get(alias, [])
        for tier in tiers:
            found = self._in_states(hits, tier)
            if found:
                return found
        return []

    def _named(
        self, name: list[str], tiers: list[set[str]], served: Set[str], *, ordinary_ok: bool, why: str
    ) -> PlaceMatch:
        """`name` as exactly a county's or a town's name, tier by tier (counties first within a tier)."""
        county_hits = self._by_alias.get(county_alias(" ".join(name)), [])
        alias = place_alias(" ".join(name))
        town_hits: tuple[Town, ...] = self._town_alias.get(alias, ())
        if not ordinary_ok and len(name) == 1 and alias in ORDINARY_WORDS:
            town_hits = ()
        for tier in tiers:
            counties = self._in_states(county_hits, tier)
            if counties:
                return self._decide(counties, served, why)
            towns = [t for t in town_hits if not tier or t.state in tier]
            if towns:
                return self._decide_town(towns, served, why)
        return _NO_PLACE

    def _decide_town(self, towns: list[Town], served: Set[str], why: str) -> PlaceMatch:
        if len(towns) == 1:
            town = towns[0]
            return PlaceMatch(county=self.counties[town.counties[0]], town=town, why=f"town, {why}")
        with_services = [t for t in towns if any(k in served for k in t.counties)]
        if len(with_services) == 1:
            town = with_services[0]
            return PlaceMatch(county=self.counties[town.counties[0]], town=town, why=f"town, {why}")
        ranked = sorted(towns, key=lambda t: not any(k in served for k in t.counties))
        return PlaceMatch(candidates=tuple(ranked[:3]), why=f"town in several places, {why}")

    def _in_states(self, keys: Iterable[str], states: set[str]) -> list[str]:
        return [k for k in keys if not states or self.counties[k].state in states]

    def _fuzzy(self, phrase: str, states: set[str], served: Set[str]) -> PlaceMatch:
        """A near spelling: county names first (the few that most typos are of), then the towns of the tiers."""
        alias = county_alias(phrase)
        if len(alias) < 4 or alias in ORDINARY_WORDS or _spelled_right(alias):
            return _NO_PLACE
        scored: list[tuple[str, float, list[str]]] = []
        for towns in (False, True) if states else (False,):
            pool, choices, number = self._pool(states, towns)
            scored += [(a, score, pool[a]) for a, score in self._closest(alias, choices, number)]
            scored.sort(key=lambda hit: -hit[1])
            if not scored:
                continue
            _, best, keys = scored[0]
            runner_up = scored[1][1] if len(scored) > 1 else 0.0
            if best >= ACCEPT_SCORE and best - runner_up >= 6 and len(keys) == 1:
                found = self.place(keys[0])
                if isinstance(found, Town):
                    county = self.counties[found.counties[0]]
                    return PlaceMatch(county=county, town=found, why="town, by a near spelling")
                return PlaceMatch(county=found, why="county, by a near spelling")
        if not scored:
            return _NO_PLACE
        best = scored[0][1]
        options = [k for _, score, keys in scored[:3] if score >= best - ASK_MARGIN for k in keys]
        places = [p for k in _served_first(options, served, self) if (p := self.place(k)) is not None]
        return PlaceMatch(candidates=tuple(places[:3]), why="a near spelling, to confirm")

    def _closest(self, alias: str, choices: list[str], pool: int) -> list[tuple[str, float]]:
        """The (up to four) `choices` (the aliases of pool number `pool`) nearest to `alias`, best first, with
        their fuzzy ratio.

        Comparing one phrase with a few thousand names costs a fraction of a millisecond, and most phrases that get
        here are not places at all but the same few greetings ("hello", "need help"): answers are remembered, a few
        thousand at most, in this process's memory only (never logged or stored).
        """
        key = (alias, pool)
        found = self._scored.get(key)
        if found is None:
            cutoff = ASK_SCORE if len(alias) > 5 else SHORT_ASK_SCORE
            scored = process.extract(alias, choices, scorer=fuzz.ratio, limit=4, score_cutoff=cutoff)
            found = [(a, score) for a, score, _ in scored]
            if len(self._scored) >= FUZZY_MEMORY:
                self._scored.clear()
            self._scored[key] = found
        return found

    def _pool(self, states: set[str], towns: bool = False) -> tuple[dict[str, list[str]], list[str], int]:
        """The names of the counties (or of the towns) in `states` (all counties when empty), as a dict of alias to
        keys and a list, and the pool's number: built once per set of states, since building it walks every
        alias, which costs more than the fuzzy matching itself."""
        key = (frozenset(states), towns)
        found = self._pools.get(key)
        if found is None:
            pool: dict[str, list[str]] = defaultdict(list)
            if towns:
                by_state = self._towns_by_state()
                for state in sorted(states):
                    for a, town_key in by_state.get(state, ()):
                        if not self._in_states(self._by_alias.get(a, ()), states):  # a county of that name wins
                            pool[a].append(town_key)
            else:
                for a, keys in self._by_alias.items():
                    pool[a].extend(self._in_states(keys, states))
            pool = {a: keys for a, keys in pool.items() if keys}
            found = self._pools[key] = (pool, list(pool), len(self._pools))
        return found

    def _towns_by_state(self) -> dict[str, list[tuple[str, str]]]:
        """(alias, key) of every town, by state: made once, so a pool of one state's towns costs only that state."""
        if self._town_index is None:
            index: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for alias, towns in self._town_alias.items():
                for town in towns:
                    index[town.state].append((alias, town.key))
            self._town_index = dict(index)
        return self._town_index

    def _decide(self, keys: list[str], served: Set[str], why: str = "") -> PlaceMatch:
        if len(keys) == 1:
            return PlaceMatch(county=self.counties[keys[0]], why=f"county, {why}")
        with_services = [k for k in keys if k in served]
        if len(with_services) == 1:
            return PlaceMatch(county=self.counties[with_services[0]], why=f"county, {why}")
        places = [self.counties[k] for k in _served_first(keys, served, self)[:3]]
        return PlaceMatch(candidates=tuple(places), why=f"county in several states, {why}")


def content_words(alias: str) -> list[str]:
    """The words of a folded phrase or name that are not plain words ("the villages" -> ["villages"])."""
    return [w for w in alias.split(" ") if w and w not in _PLAIN_WORDS]


def _spelled_right(alias: str) -> bool:
    """Nothing here to forgive: only plain words, or one word besides them that is spelled right ("im so scared").
    Two or more words are still forgiven ("palm coats"), since a place's own words are often ordinary ones."""
    content = content_words(alias)
    return not content or (len(content) == 1 and content[0] in SPELLED_WORDS)


def _add_town_zip(
    named: dict[tuple[str, str], tuple[str, dict[str, list[str]]]],
    aliases: dict[str, str],
    city: str,
    state: str,
    county: str,
    zip_code: str,
) -> None:
    # Many ZIPs share a city: each name is folded once, and its towns share one alias string.
    alias = aliases.get(city)
    if alias is None:
        alias = aliases[city] = sys.intern(place_alias(city))
    if not alias or alias.isdigit():
        return
    found = named.get((alias, state))
    if found is None:
        found = named[(alias, state)] = (_display(city), {})
    found[1].setdefault(county, []).append(zip_code)


def _display(city: str) -> str:
    return " ".join(w if w.isupper() and len(w) <= 3 else w[:1].upper() + w[1:].lower() for w in city.split())


def _city_list(value: object) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in value.split("|") if v]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _towns_of(
    alias: str, state: str, name: str, by_county: dict[str, list[str]], points: dict[str, tuple[float, float]]
) -> Iterator[Town]:
    """One town per cluster of same-named ZIPs: counties within `TOWN_SPAN_MILES` of the biggest part join it."""
    parts = sorted(by_county.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    centres = {county: _centre([points[z] for z in zips if z in points]) for county, zips in parts}
    left = [county for county, _ in parts]
    number = 0
    while left:
        main = left.pop(0)
        here = centres[main]
        joined = [c for c in left if here is None or _within(here, centres[c], TOWN_SPAN_MILES)]
        left = [c for c in left if c not in joined]
        zips = by_county[main]
        best = zips[0]
        if here is not None:
            best = min(zips, key=lambda z: miles(here, points[z]) if z in points else 1e9)
        yield Town(alias, name, state, (main, *joined), best, number)
        number += 1


def _within(here: tuple[float, float], there: tuple[float, float] | None, limit: float) -> bool:
    """Whether `there` is within `limit` miles of `here` (a part with no coordinates is taken to be near)."""
    return there is None or miles(here, there) <= limit


def _centre(pts: list[tuple[float, float]]) -> tuple[float, float] | None:
    if not pts:
        return None
    return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


def _strip_edges(tokens: list[str]) -> list[str]:
    start, end = 0, len(tokens)
    while start < end and tokens[start] in _EDGE_FILLER:
        start += 1
    while end > start and tokens[end - 1] in _EDGE_FILLER:
        end -= 1
    return tokens[start:end]


def _after_cues(tokens: list[str]) -> Iterator[tuple[int, bool]]:
    """Positions just after each place cue in a sentence, and whether the cue is a strong one."""
    i, end = 0, len(tokens)
    while i < end:
        for words, strong in _CUES_BY_FIRST_WORD.get(tokens[i], ()):
            size = len(words)
            if size == 1 or tuple(tokens[i : i + size]) == words:
                yield i + size, strong
                i += size - 1
                break
        i += 1


def _tail_after_strong_cue(tokens: list[str]) -> list[str]:
    last = -1
    for start, strong in _after_cues(tokens):
        if strong:
            last = start
    return _strip_edges(tokens[last:]) if last >= 0 else []


def _leading_state(tokens: list[str]) -> str | None:
    """A state name or postal code at the start of `tokens` (`ohio`, `new york`, `fl`)."""
    for size in (2, 1):
        if len(tokens) >= size:
            head = " ".join(tokens[:size])
            code = US_STATES.get(head) or (_STATE_CODES.get(head) if size == 1 else None)
            if code:
                return code
    return None


# Every state, district, territory and military post code in the ZIP table. Reading it one state at a time
# keeps a process's peak memory far below `zipcodes.list_all()`'s, which also caches every row as a Python
# dict for the life of the process.
ZIP_TABLE_STATES = (
    "AA", "AE", "AK", "AL", "AP", "AR", "AS", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "FM", "GA", "GU", "HI",
    "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MH", "MI", "MN", "MO", "MP", "MS", "MT", "NC",
    "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "PR", "PW", "RI", "SC", "SD", "TN", "TX",
    "UT", "VA", "VI", "VT", "WA", "WI", "WV", "WY",
)  # fmt: skip


def zipcode_rows() -> Iterator[Mapping[str, object]]:
    """The rows of the `zipcodes` table, one state's worth in memory at a time (never its module cache)."""
    for state in ZIP_TABLE_STATES:
        yield from zipcodes.filter_by(state=state)


def _served_first(keys: list[str], served: Set[str], gaz: Gazetteer) -> list[str]:
    """Keys once each, those with a local service first (a town counts by any of its counties)."""

    def has_service(key: str) -> bool:
        place = gaz.place(key)
        return any(k in served for k in place.counties) if isinstance(place, Town) else key in served

    return sorted(dict.fromkeys(keys), key=lambda k: not has_service(k))


def _split_state(tokens: list[str]) -> tuple[str | None, list[str]]:
    """Peel a trailing state name or postal code off a message: `marion county fl`."""
    for size in (3, 2, 1):
        if len(tokens) > size:
            tail = " ".join(tokens[-size:])
            code = US_STATES.get(tail) or (_STATE_CODES.get(tail) if size == 1 else None)
            if code:
                return code, tokens[:-size]
    return None, tokens


def miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in miles."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 3958.8 * 2 * math.asin(math.sqrt(h))
