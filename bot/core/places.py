"""Turning "volusa", "St. Johns county" or "32114" into a county, offline.

Counties and ZIP codes come from the `zipcodes` package (the US ZIP table it ships). Names are matched
exactly first (after folding case, punctuation, "County" and "Saint"/"St."), then by fuzzy ratio, and a
doubtful match becomes a question rather than a guess.
"""

from __future__ import annotations

import math
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field

import zipcodes
from rapidfuzz import fuzz, process

from bot.core.directory import County
from bot.core.text import fold

_ZIP = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")
_DROP_WORDS = {"county", "parish", "borough", "co", "cnty"}
_FILLER = {"i", "im", "live", "in", "at", "near", "the", "my", "is", "zip", "code", "area", "from", "of", "for"}
ACCEPT_SCORE = 88.0
ASK_SCORE = 72.0
SHORT_ASK_SCORE = 80.0
FUZZY_MEMORY = 4096

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
}
_STATE_CODES = {code.lower(): code for code in US_STATES.values()}


def county_alias(name: str) -> str:
    """The folded form two spellings of one county share: `"St. Johns County"` -> `"st johns"`."""
    parts = [w for w in fold(name).split(" ") if w and w not in _DROP_WORDS]
    parts = ["st" if w in {"saint", "st"} else "ste" if w in {"sainte", "ste"} else w for w in parts]
    return " ".join(parts)


@dataclass(frozen=True)
class PlaceMatch:
    """The outcome of reading a place from a message.

    `county` is set when we are sure; `candidates` when we should ask "did you mean"; `zip_code` when a
    ZIP was given (known or not). All empty means the text named no place we know.
    """

    county: County | None = None
    candidates: tuple[County, ...] = ()
    zip_code: str | None = None
    zip_unknown: bool = False

    @property
    def found(self) -> bool:
        return self.county is not None


@dataclass
class Gazetteer:
    """All US counties, their ZIP codes and centre points, with the states this helpline serves first."""

    counties: dict[str, County] = field(default_factory=dict)
    centroids: dict[str, tuple[float, float]] = field(default_factory=dict)
    zip_to_county: dict[str, str] = field(default_factory=dict)
    zip_points: dict[str, tuple[float, float]] = field(default_factory=dict)
    _by_alias: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _pools: dict[frozenset[str], tuple[dict[str, list[str]], list[str], int]] = field(default_factory=dict)
    _scored: dict[tuple[str, int], list[tuple[str, float]]] = field(default_factory=dict)

    @classmethod
    def from_zipcodes(cls, fips: dict[str, str] | None = None) -> Gazetteer:
        """Build from the ZIP table shipped by `zipcodes`; `fips` maps `County.key` to FIPS where known."""
        return cls.from_rows(zipcode_rows(), fips)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]], fips: dict[str, str] | None = None) -> Gazetteer:
        """Build from rows shaped like `zipcodes`' (zip_code, state, county, lat, long)."""
        fips = fips or {}
        gaz = cls()
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
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
            try:
                lat, lon = float(row["lat"]), float(row["long"])  # type: ignore[arg-type]
            except (KeyError, TypeError, ValueError):
                continue
            gaz.zip_points[zip_code] = (lat, lon)
            acc = sums[key]
            acc[0] += lat
            acc[1] += lon
            acc[2] += 1
        gaz.centroids = {k: (v[0] / v[2], v[1] / v[2]) for k, v in sums.items() if v[2]}
        return gaz

    def zip_point(self, zip_code: str) -> tuple[float, float] | None:
        """The latitude and longitude the ZIP table gives for a ZIP code (its centre), if any."""
        return self.zip_points.get(zip_code)

    def county_for_zip(self, zip_code: str) -> County | None:
        """The county a ZIP code lies in (its main county, for ZIPs that cross a line)."""
        key = self.zip_to_county.get(zip_code)
        return self.counties.get(key) if key else None

    def resolve(
        self, text: str, prefer_states: Sequence[Iterable[str]] = (), served: Iterable[str] = ()
    ) -> PlaceMatch:
        """Read a county or ZIP from a message.

        `prefer_states` is a list of tiers (say, the provider's home state, then other states with
        listings): an exact name is looked for tier by tier, then anywhere in the US; typos are only
        forgiven within the tiers. Among equal names, counties in `served` come first.
        """
        zip_hit = _ZIP.search(text)
        if zip_hit:
            county = self.county_for_zip(zip_hit.group(1))
            if county is None:
                return PlaceMatch(zip_code=zip_hit.group(1), zip_unknown=True)
            return PlaceMatch(county=county, zip_code=zip_hit.group(1))
        tokens = [w for w in fold(text).split(" ") if w and w not in _FILLER]
        if not tokens or len(tokens) > 6:
            return PlaceMatch()
        # The directory hands over a shared frozenset of a few thousand keys: no need to copy it per message.
        served_set: Set[str] = served if isinstance(served, (set, frozenset)) else set(served)
        state, rest = _split_state(tokens)
        if state and rest:
            exact = self._exact(rest, {state})
            if exact:
                return self._decide(exact, served_set)
            named = self._fuzzy(" ".join(rest), {state}, served_set)
            if named.found or named.candidates:
                return named
        tiers = [set(t) for t in prefer_states if t]
        for tier in [*tiers, set()]:
            exact = self._exact(tokens, tier)
            if exact:
                return self._decide(exact, served_set)
        if len(tokens) > 4:
            return PlaceMatch()
        return self._fuzzy(" ".join(tokens), set().union(*tiers) if tiers else set(), served_set)

    def nearest(self, origin: County, keys: Iterable[str], limit: int = 2) -> list[tuple[County, float]]:
        """The closest of `keys` to `origin`, by centre point, with distance in miles."""
        here = self.centroids.get(origin.key)
        if here is None:
            return []
        ranked = sorted(
            (miles(here, self.centroids[k]), k) for k in keys if k in self.centroids and k != origin.key
        )
        return [(self.counties[k], d) for d, k in ranked[:limit]]

    def _in_states(self, keys: Iterable[str], states: set[str]) -> list[str]:
        return [k for k in keys if not states or self.counties[k].state in states]

    def _exact(self, tokens: list[str], states: set[str]) -> list[str]:
        for size in range(min(len(tokens), 4), 0, -1):
            for start in range(0, len(tokens) - size + 1):
                alias = county_alias(" ".join(tokens[start : start + size]))
                hits = self._in_states(self._by_alias.get(alias, []), states)
                if hits:
                    return hits
        return []

    def _fuzzy(self, phrase: str, states: set[str], served: Set[str]) -> PlaceMatch:
        alias = county_alias(phrase)
        if len(alias) < 4:
            return PlaceMatch()
        pool, choices, number = self._pool(states)
        scored = self._closest(alias, choices, number)
        if not scored:
            return PlaceMatch()
        best_alias, best = scored[0]
        runner_up = scored[1][1] if len(scored) > 1 else 0.0
        keys = self._in_states(pool[best_alias], states)
        if best >= ACCEPT_SCORE and best - runner_up >= 6 and len(keys) == 1:
            return PlaceMatch(county=self.counties[keys[0]])
        options: list[str] = []
        for a, _ in scored[:3]:
            options.extend(self._in_states(pool[a], states))
        return PlaceMatch(candidates=tuple(self.counties[k] for k in _served_first(options, served)[:3]))

    def _closest(self, alias: str, choices: list[str], pool: int) -> list[tuple[str, float]]:
        """The (up to four) `choices` (the aliases of pool number `pool`) nearest to `alias`, best first, with
        their fuzzy ratio.

        Comparing one phrase with 1,900 aliases costs ~0.2 ms, and most phrases that get here are not places
        at all but the same few greetings ("hello", "need help"): answers are remembered, a few thousand at most,
        in this process's memory only (never logged or stored).
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

    def _pool(self, states: set[str]) -> tuple[dict[str, list[str]], list[str], int]:
        """The aliases of the counties in `states` (all when empty), as a dict and a list, and the pool's number:
        built once per set of states, since building it walks all 1,900 aliases, which cost more than the fuzzy
        matching itself."""
        key = frozenset(states)
        found = self._pools.get(key)
        if found is None:
            pool = {a: keys for a, keys in self._by_alias.items() if self._in_states(keys, states)}
            found = self._pools[key] = (pool, list(pool), len(self._pools))
        return found

    def _decide(self, keys: list[str], served: Set[str]) -> PlaceMatch:
        if len(keys) == 1:
            return PlaceMatch(county=self.counties[keys[0]])
        with_services = [k for k in keys if k in served]
        if len(with_services) == 1:
            return PlaceMatch(county=self.counties[with_services[0]])
        return PlaceMatch(candidates=tuple(self.counties[k] for k in _served_first(keys, served)[:3]))


# Every state, district, territory and military post code in the ZIP table. Reading it one state at a time
# keeps a process's peak memory ~120 MB lower than `zipcodes.list_all()`, which also caches all 42,000 rows
# as Python dicts for the life of the process.
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


def _served_first(keys: list[str], served: Set[str]) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(keys)
    return sorted(seen, key=lambda k: k not in served)


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
