"""The directory in memory: every lookup the engine makes answered from dicts and a grid, never a table scan.

`DirectoryIndex.build` takes the directory's active listings (a `Resource` plus its service areas and the
points where it is) and the centre points of the counties, and precomputes:

- county -> category -> its local services (by name and by FIPS), state -> statewide ones, category -> national;
- per category, a grid of 0.1-degree cells holding every service's points, searched nearest cell first from a
  ZIP code, so "the 10 nearest within 25 miles" looks at the few cells around it; a service with no address
  stands at the centre of each county it serves, and its distance is marked approximate;
- per category, a grid of 1-degree cells of the served counties' centres, for "nearest county with a listing".

Listings are stored packed (one string each, shared values as numbers) and unpacked into `Resource`s when a
lookup returns them (`bench/directory_load.py` measures what that saves). The index is immutable once built
(apart from a small cache of unpacked resources); a process swaps a whole new one in when the data changes.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any

from bot.core.directory import County, Nearby, Phone, Point, Resource, new_phone, new_resource

SERVICE_CELL_DEGREES = 0.1
_COUNTY_REACH_MILES = 400.0  # farther than any two points of one county (North Slope Borough spans ~350)
COUNTY_CELL_DEGREES = 1.0
_MILES_PER_DEGREE_LAT = 69.09  # 2 * pi * 3958.8 / 360: never more than the true distance per degree


@dataclass(frozen=True, slots=True)
class Area:
    """Where a listing is offered: `county` (with state, name, maybe FIPS), `state`, or `national`."""

    extent: str
    state: str | None = None
    county: str | None = None
    fips: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """One active service as the index needs it: the resource, its service areas, and its addresses' points."""

    resource: Resource
    areas: tuple[Area, ...]
    points: tuple[Point, ...] = ()


def county_key(state: str, name: str) -> str:
    """`County.key` for a service area's state and county name."""
    return County(name=name.strip(), state=state.upper()).key


EARTH_RADIUS_MILES = 3958.8


class _Points:
    """A flat table of points (in radians, with the cosine of the latitude), each naming its owner.

    Arrays of doubles, not tuples of floats: a fraction of the memory of a float object per coordinate.
    """

    def __init__(self) -> None:
        self.lat = array("d")
        self.lon = array("d")
        self.cos = array("d")
        self.owner = array("l")

    def add(self, point: Point, owner: int) -> int:
        lat, lon = math.radians(point[0]), math.radians(point[1])
        self.lat.append(lat)
        self.lon.append(lon)
        self.cos.append(math.cos(lat))
        self.owner.append(owner)
        return len(self.owner) - 1

    def h(self, origin: tuple[float, float, float], p: int) -> float:
        """The haversine of the angle between `origin` (radians and cosine) and point `p`: grows with distance."""
        lat0, lon0, cos0 = origin
        return math.sin((self.lat[p] - lat0) / 2) ** 2 + cos0 * self.cos[p] * math.sin((self.lon[p] - lon0) / 2) ** 2


def _cell(i: int, j: int) -> int:
    """One int for a cell's (row, column): a dict key without a tuple and two ints per cell."""
    return (i << 16) + j


def _row(key: int) -> int:
    return (key + (1 << 15)) >> 16


def _row_start(key: int) -> int:
    """The key of column 0 of the key's row (so keys of earlier rows sort before `i << 16`, the rest after)."""
    return _row(key) << 16


def _origin(point: Point) -> tuple[float, float, float]:
    lat = math.radians(point[0])
    return lat, math.radians(point[1]), math.cos(lat)


def _miles(h: float) -> float:
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(min(1.0, h)))


def _h_within(radius: float) -> float:
    return math.sin(min(radius / (2 * EARTH_RADIUS_MILES), math.pi / 2)) ** 2


class _Grid:
    """Point numbers (of a `_Points` table) bucketed in cells of `cell_degrees`, for searches within a radius."""

    def __init__(self, points: _Points, cell_degrees: float):
        self.points = points
        self.cell = cell_degrees
        self._filling: dict[int, list[int]] | None = defaultdict(list)
        # Frozen, the cells are three flat arrays (sorted cell keys, where each cell's points start, the points):
        # 16 bytes a cell instead of a dict entry and an array object (~160), for 76,000 cells at national scale.
        self._keys = array("q")
        self._starts = array("l")
        self._items = array("l")
        # Where each row's cells start among the keys (from row `_row0`): a binary search for a column looks only
        # in its row, a few steps instead of fifteen.
        self._row0 = 0
        self._rows = array("l")

    def add(self, point: Point, number: int) -> None:
        assert self._filling is not None, "the grid is frozen"
        self._filling[_cell(math.floor(point[0] / self.cell), math.floor(point[1] / self.cell))].append(number)

    def freeze(self) -> None:
        filling, self._filling = self._filling or {}, None
        for key in sorted(filling):
            self._keys.append(key)
            self._starts.append(len(self._items))
            self._items.extend(filling[key])
        self._starts.append(len(self._items))
        if self._keys:
            self._row0 = _row(self._keys[0])
            for i in range(self._row0, _row(self._keys[-1]) + 2):
                self._rows.append(bisect_left(self._keys, i << 16, key=_row_start))

    def _box(self, origin: Point, radius: float) -> tuple[int, int, int, int, float]:
        """The rows and columns of cells (i_lo, i_hi, j_lo, j_hi) holding every point within `radius` miles of
        `origin`, and the smallest cosine of a latitude in that box."""
        lat0, lon0 = origin
        dlat = radius / _MILES_PER_DEGREE_LAT
        # Longitude degrees shrink towards the poles: use the most poleward latitude the circle reaches, so the
        # box of cells always contains the whole circle.
        cos_lat = math.cos(math.radians(min(89.0, abs(lat0) + dlat)))
        dlon = min(180.0, radius / (_MILES_PER_DEGREE_LAT * max(cos_lat, 1e-3)))
        cell = self.cell
        return (
            math.floor((lat0 - dlat) / cell), math.floor((lat0 + dlat) / cell),
            math.floor((lon0 - dlon) / cell), math.floor((lon0 + dlon) / cell), cos_lat,
        )

    def _span(self, i: int, j_lo: int, j_hi: int) -> range:
        """Positions (in the sorted cell keys) of row i's non-empty cells between two columns.

        The keys are sorted by row then column, so they are consecutive: two binary searches find them all,
        however many of the cells are empty (most of them, outside cities).
        """
        r = i - self._row0
        rows = self._rows
        if not 0 <= r < len(rows) - 1:
            return range(0)
        start, end = rows[r], rows[r + 1]
        if start == end:
            return range(start, end)
        base = i << 16
        keys = self._keys
        k = bisect_left(keys, base + j_lo, start, end)
        return range(k, bisect_right(keys, base + j_hi, k, end))

    def _band(
        self, i0: int, j0: int, near: int, far: int, box: tuple[int, int, int, int, float], gaps: _Gaps
    ) -> list[tuple[float, int, int]]:
        """(least h, start, end of its points) of the non-empty cells in the box whose ring around cell (i0, j0) is
        from `near` to `far`. A cell's ring is its Chebyshev distance from (i0, j0)."""
        i_lo, i_hi, j_lo, j_hi, _ = box
        keys, starts, span = self._keys, self._starts, self._span
        i_from, i_to, j_from, j_to = max(i_lo, i0 - far), min(i_hi, i0 + far), max(j_lo, j0 - far), min(j_hi, j0 + far)
        column_h = gaps.columns(j_from, j_to)
        cells = []
        for i, row_h in zip(range(i_from, i_to + 1), gaps.rows(i_from, i_to), strict=True):
            if abs(i - i0) >= near:
                ranges: tuple[range, ...] = (span(i, j_from, j_to),)
            else:
                ranges = (span(i, j_from, min(j_to, j0 - near)), span(i, max(j_from, j0 + near), j_to))
            base = (i << 16) + j_from
            for positions in ranges:
                for k in positions:
                    cells.append((row_h + column_h[keys[k] - base], starts[k], starts[k + 1]))
        return cells

    def within(self, origin: Point, radius: float) -> list[tuple[float, int]]:
        """(h, point number) for every point within `radius` miles of `origin`."""
        i_lo, i_hi, j_lo, j_hi, _ = self._box(origin, radius)
        o_lat, o_lon, o_cos = _origin(origin)
        lat, lon, cos = self.points.lat, self.points.lon, self.points.cos
        starts, items = self._starts, self._items
        limit = _h_within(radius)
        sin = math.sin
        found = []
        for i in range(i_lo, i_hi + 1):
            positions = self._span(i, j_lo, j_hi)
            for p in items[starts[positions.start] : starts[positions.stop]]:
                h = sin((lat[p] - o_lat) / 2) ** 2 + o_cos * cos[p] * sin((lon[p] - o_lon) / 2) ** 2
                if h <= limit:
                    found.append((h, p))
        return found

    def nearest(
        self, origin: Point, radius: float, skip: Set[int], want: int,
        own: Set[int] = frozenset(), own_radius: float = 0.0, own_want: int = 0,
    ) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
        """(h, point number), nearest first, of points within `radius` miles whose owner is not in `skip`: at least
        the points of the `want` nearest owners (fewer if there are fewer); and the same, in the same walk, of
        points within `own_radius` whose owner is in `own` (a part of `skip`: a big county's own listings, met
        anyway on the way to the others).

        The non-empty cells of the box around the circle are taken nearest first (by the least distance any of
        their points can have), and the search stops as soon as `want` owners are known to be no farther than the
        next cell. In a dense city that is a cell or a few instead of every point within the radius (a 0.1-degree
        cell downtown holds a hundred listings of a category); in the country, a few cells.
        """
        limit = _h_within(radius)
        own_limit = _h_within(own_radius) if own and own_want > 0 else -1.0
        box = self._box(origin, max(radius, own_radius))
        i_lo, i_hi, j_lo, j_hi, cos_lat = box
        o_lat, o_lon, o_cos = _origin(origin)
        lat, lon, cos, owner, items = self.points.lat, self.points.lon, self.points.cos, self.points.owner, self._items
        sin = math.sin
        found: list[tuple[float, int]] = []
        own_found: list[tuple[float, int]] = []

        def measure(start: int, end: int, mine_open: Set[int], others_open: bool) -> None:
            """Measure the cell's points that a search not yet done wants (`mine_open`: `own` while the search
            for them is open)."""
            for p in items[start:end]:
                n = owner[p]
                if n in skip:
                    if n not in mine_open:
                        continue
                    into, most = own_found, own_limit
                elif others_open:
                    into, most = found, limit
                else:
                    continue
                h = sin((lat[p] - o_lat) / 2) ** 2 + o_cos * cos[p] * sin((lon[p] - o_lon) / 2) ** 2
                if h <= most:
                    into.append((h, p))

        if i_hi - i_lo < _SCAN_ROWS:
            # Outside cities the box holds a few dozen points: measuring them all costs less than the rings'
            # bookkeeping. The rows' spans say how many there are before any is measured.
            starts = self._starts
            rows = (self._span(i, j_lo, j_hi) for i in range(i_lo, i_hi + 1))
            spans = [(starts[r.start], starts[r.stop]) for r in rows]
            if sum(end - start for start, end in spans) <= _SCAN_POINTS:
                for start, end in spans:
                    measure(start, end, own if own_limit >= 0 else _NO_ONE, True)
                found.sort()
                own_found.sort()
                return found, own_found
        i0, j0 = math.floor(origin[0] / self.cell), math.floor(origin[1] / self.cell)
        last = max(i0 - i_lo, i_hi - i0, j0 - j_lo, j_hi - j0)
        gaps = _Gaps(origin, self.cell, o_cos * cos_lat)
        # A search is done once no unvisited point can be nearer than this (as h): than its radius, at first,
        # then than its `want`th owner.
        done, own_done = math.nextafter(limit, math.inf), math.nextafter(own_limit, math.inf)
        # Cells are measured least h first, in bands of rings of doubling width (two binary searches a row each
        # time, not one a cell); a cell of the band that may be farther than the next band's nearest waits for it.
        waiting: list[tuple[float, int, int]] = []
        near, far = 0, _FIRST_BAND
        while near <= last:
            cells = waiting + self._band(i0, j0, near, far, box, gaps)
            cells.sort()
            beyond = gaps.ring_h(far + 1) if far < last else math.inf
            waiting = []
            for n, (least, start, end) in enumerate(cells):
                if least > beyond:
                    waiting = cells[n:]
                    break
                if least >= done and least >= own_done:
                    found.sort()
                    own_found.sort()
                    return found, own_found
                counted, own_counted = len(found), len(own_found)
                measure(start, end, own if least < own_done else _NO_ONE, least < done)
                if len(found) > counted:
                    done = _kth(found, owner, want, counted, done)
                if len(own_found) > own_counted:
                    own_done = _kth(own_found, owner, own_want, own_counted, own_done)
            near, far = far + 1, 2 * far + 1
        found.sort()
        own_found.sort()
        return found, own_found


class _Gaps:
    """Lower bounds, as h, of the distance from a point to the points of a cell some rows or columns away.

    A cell's least h is its row's term plus its column's term (each no more than the haversine's own), from
    the gap between the point and the cell's nearer edge, less a hair so that rounding never makes a bound
    exceed a true distance.
    """

    def __init__(self, origin: Point, cell: float, factor: float):
        self.lat, self.lon, self.cell, self.factor = origin[0], origin[1], cell, factor
        self.i0, self.j0 = math.floor(origin[0] / cell), math.floor(origin[1] / cell)

    def rows(self, first: int, last: int) -> list[float]:
        return [_gap_h(self.lat, i, self.i0, self.cell) for i in range(first, last + 1)]

    def columns(self, first: int, last: int) -> list[float]:
        factor = self.factor
        return [factor * _gap_h(self.lon, j, self.j0, self.cell) for j in range(first, last + 1)]

    def ring_h(self, k: int) -> float:
        """The least h of any cell in ring `k` or beyond."""
        i0, j0, cell = self.i0, self.j0, self.cell
        return min(
            _gap_h(self.lat, i0 + k, i0, cell), _gap_h(self.lat, i0 - k, i0, cell),
            self.factor * min(_gap_h(self.lon, j0 + k, j0, cell), _gap_h(self.lon, j0 - k, j0, cell)),
        )


def _gap_h(x: float, i: int, i0: int, cell: float) -> float:
    """sin^2 of half the gap (in radians) between coordinate `x`, in cell i0, and the nearer edge of cell i."""
    if i == i0:
        return 0.0
    gap = i * cell - x if i > i0 else x - (i + 1) * cell
    return math.sin(math.radians(max(0.0, gap - _HAIR)) / 2) ** 2


_NO_ONE: frozenset[int] = frozenset()
_HAIR = 1e-9  # degrees: far below a metre, far above rounding

_FIRST_BAND = 3  # rings 0-3 first: at 25 miles, about half the box
_SCAN_ROWS = 16  # a box of up to this many rows (~50 miles) is counted first, and measured whole when ...
_SCAN_POINTS = 96  # ... it holds at most this many points


def _kth(found: list[tuple[float, int]], owner: array[int], want: int, since: int, bound: float) -> float:
    """The h of the `want`th owner's nearest point in `found`, if less than `bound` (else `bound`), knowing that
    the points from `since` on are new; sorts `found`."""
    if len(found) < want or min(found[since:])[0] >= bound:
        return bound  # too few, or none nearer than the owner it was
    found.sort()
    if len({owner[p] for _, p in found[:want]}) == want:
        return min(bound, found[want - 1][0])  # the usual case: one point an owner
    owners = set()
    for h, p in found:
        if h >= bound:
            break
        owners.add(owner[p])
        if len(owners) >= want:
            return h
    return bound


class DirectoryIndex:
    """The `Directory` port answered from memory; build it with `DirectoryIndex.build`.

    Listings are numbered in the order given; every table below holds those numbers, so each `Resource` is
    kept once however many counties and categories it appears under.
    """

    def __init__(self) -> None:
        self.version = ""
        # Each listing's own text packed into one string (id, name, organization, links, phones), its shared
        # values as numbers into small tables; a `Resource` is unpacked when a lookup returns it. At national
        # scale a process then holds one string per listing instead of its Resource and Phone objects.
        self._records: list[str] = []
        self._unpackable: dict[int, Resource] = {}  # the rare listing whose text holds a separator character
        self._shared: list[object] = []
        self._shared_numbers: dict[object, int] = {}
        self._source = array("l")
        self._categories = array("l")
        self._national_flag = array("b")
        self._cache: OrderedDict[int, Resource] = OrderedDict()
        self._big_counties: dict[tuple[str, str, str | None, str], tuple[frozenset[int], tuple[int, ...]]] = {}
        self._approx = array("b")
        self._points = _Points()
        self._first = array("l")
        self._count = array("l")
        self._county_points = _Points()
        self._by_name: dict[tuple[str, str, str], tuple[int, ...]] = {}
        self._by_fips: dict[tuple[str, str], tuple[int, ...]] = {}
        self._statewide: dict[tuple[str, str], tuple[int, ...]] = {}
        self._national: dict[str, tuple[int, ...]] = {}
        self._served: dict[str, frozenset[str]] = {}
        self._service_grid: dict[str, _Grid] = {}
        self._county_grid: dict[str, _Grid] = {}
        self._county_keys: list[str] = []

    @property
    def size(self) -> int:
        """How many listings the index holds."""
        return len(self._records)

    @classmethod
    def build(
        cls, listings: Iterable[Listing], centroids: Mapping[str, Point], version: str = ""
    ) -> DirectoryIndex:
        """Index `listings` (active services only); `centroids` maps `County.key` to the county's centre."""
        index = cls()
        index.version = version
        by_name: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        by_fips: dict[tuple[str, str], list[int]] = defaultdict(list)
        statewide: dict[tuple[str, str], list[int]] = defaultdict(list)
        national: dict[str, list[int]] = defaultdict(list)
        served: dict[str, set[str]] = defaultdict(set)
        names: dict[str, str] = {}  # one copy of each folded county name
        sort_keys: list[tuple[str, str]] = []
        for number, listing in enumerate(listings):
            index._pack(number, listing.resource)
            sort_keys.append((listing.resource.name, listing.resource.id))
            areas = tuple(dict.fromkeys(listing.areas))
            counties = sorted({county_key(a.state or "", a.county or "") for a in areas if _is_county(a)})
            points = listing.points or tuple(centroids[k] for k in counties if k in centroids)
            index._approx.append(0 if listing.points else 1)
            index._first.append(len(index._points.owner))
            index._count.append(len(points))
            numbers = [index._points.add(point, number) for point in points]
            for category in dict.fromkeys(listing.resource.categories):
                for area in areas:
                    if _is_county(area):
                        assert area.state and area.county
                        folded = area.county.strip().lower()
                        folded = names.setdefault(folded, folded)
                        by_name[(area.state.upper(), folded, category)].append(number)
                        if area.fips:
                            by_fips[(area.fips, category)].append(number)
                        served[category].add(county_key(area.state, area.county))
                    elif area.extent == "state" and area.state:
                        statewide[(area.state.upper(), category)].append(number)
                    elif area.extent == "national":
                        national[category].append(number)
                grid = index._service_grid.get(category)
                if grid is None:
                    grid = index._service_grid[category] = _Grid(index._points, SERVICE_CELL_DEGREES)
                for point, point_number in zip(points, numbers, strict=True):
                    grid.add(point, point_number)
        def order(numbers: Iterable[int]) -> tuple[int, ...]:
            return tuple(sorted(set(numbers), key=sort_keys.__getitem__))

        index._by_name = {k: order(v) for k, v in by_name.items()}
        index._by_fips = {k: order(v) for k, v in by_fips.items()}
        index._statewide = {k: order(v) for k, v in statewide.items()}
        index._national = {k: order(v) for k, v in national.items()}
        index._served = {k: frozenset(v) for k, v in served.items()}
        county_numbers: dict[str, int] = {}
        for category, keys in index._served.items():
            grid = index._county_grid[category] = _Grid(index._county_points, COUNTY_CELL_DEGREES)
            for key in sorted(keys):
                if key not in centroids:
                    continue
                if key not in county_numbers:
                    county_numbers[key] = index._county_points.add(centroids[key], len(index._county_keys))
                    index._county_keys.append(key)
                grid.add(centroids[key], county_numbers[key])
            grid.freeze()
        for grid in index._service_grid.values():
            grid.freeze()
        return index

    # -- the Directory port ---------------------------------------------------------------------------------

    def services_in_county(self, county: County, category: str) -> list[Resource]:
        """The county's own services (by name or FIPS) in name order, then its state's statewide services."""
        local = self._local(county, category)
        statewide = self._statewide.get((county.state.upper(), category), ())
        resource = self._resource
        if not statewide:
            return [resource(n) for n in local]
        seen = set(local)
        return [resource(n) for n in local] + [resource(n) for n in statewide if n not in seen]

    def national_services(self, category: str) -> list[Resource]:
        """Services offered nationwide in a category, by name."""
        return [self._resource(n) for n in self._national.get(category, ())]

    def counties_served(self, category: str) -> Set[str]:
        """`County.key`s with at least one local service in the category (a shared, read-only set)."""
        return self._served.get(category, frozenset())

    def services_near(
        self, county: County, origin: Point, category: str, radius_miles: float, limit: int
    ) -> Nearby:
        """The county's `limit` nearest services (then those without an address, then statewide ones), and up to
        `limit` others within the radius, nearest first, with miles."""
        resource, approx, points = self._resource, self._approx, self._points
        first, count = self._first, self._count
        here = _origin(origin)
        o_lat, o_lon, o_cos = here
        lat, lon, cos, sin = points.lat, points.lon, points.cos, math.sin
        placed: list[tuple[float, int]] = []
        unplaced: list[int] = []
        local = self._local(county, category)
        grid = self._service_grid.get(category)
        if grid is not None and len(local) > 4 * max(limit, 1):
            # A big county (Los Angeles has hundreds in one category): walk the grid outwards from the ZIP instead
            # of measuring every one of them.
            return self._near_in_big_county(county, origin, category, radius_miles, limit, local, grid)
        for n in local:
            if approx[n] or not count[n]:
                # Only a county centre is known: a distance to it would pretend to know where in the county.
                unplaced.append(n)
            elif count[n] == 1:
                p = first[n]  # the usual case, inlined: a big county has hundreds of these
                placed.append((sin((lat[p] - o_lat) / 2) ** 2 + o_cos * cos[p] * sin((lon[p] - o_lon) / 2) ** 2, n))
            else:
                placed.append((min(points.h(here, p) for p in range(first[n], first[n] + count[n])), n))
        seen = set(local)
        statewide = [n for n in self._statewide.get((county.state.upper(), category), ()) if n not in seen]
        seen.update(statewide)
        nearest_local = heapq.nsmallest(limit, placed)  # ties (one address, two services) go by listing order
        in_county = [self._resource_at(n, round(_miles(h), 1)) for h, n in nearest_local]
        in_county += [resource(n) for n in unplaced + statewide]
        return Nearby(in_county=tuple(in_county), around=self._around(origin, category, radius_miles, limit, seen))

    def _near_in_big_county(
        self, county: County, origin: Point, category: str, radius_miles: float, limit: int,
        local: tuple[int, ...], grid: _Grid,
    ) -> Nearby:
        resource, approx, count = self._resource, self._approx, self._count
        # Its listings with an address, and the others: kept, as there are only a few hundred such pairs.
        key = (county.state.upper(), county.name.strip().lower(), county.fips, category)
        kept = self._big_counties.get(key)
        if kept is None:
            placed_set = frozenset(n for n in local if not approx[n] and count[n])
            kept = self._big_counties[key] = (placed_set, tuple(n for n in local if n not in placed_set))
        placed_set, unplaced = kept
        seen = set(local)
        statewide = [n for n in self._statewide.get((county.state.upper(), category), ()) if n not in seen]
        seen.update(statewide)
        others: list[tuple[float, int]] = []
        own: list[tuple[float, int]] = []
        if limit > 0:
            # One walk outwards from the ZIP finds both the county's nearest and the others'.
            others, own = grid.nearest(origin, radius_miles, seen, limit, placed_set, _COUNTY_REACH_MILES, limit)
        at = self._resource_at
        in_county = [at(n, round(_miles(h), 1)) for n, h in self._first_owners(own, limit).items()]
        in_county += [resource(n) for n in unplaced]
        in_county += [resource(n) for n in statewide]
        chosen = self._first_owners(others, limit)
        around = tuple(at(n, round(_miles(h), 1), bool(approx[n])) for n, h in chosen.items())
        return Nearby(in_county=tuple(in_county), around=around)

    def _around(
        self, origin: Point, category: str, radius_miles: float, limit: int, seen: Set[int]
    ) -> tuple[Resource, ...]:
        """Up to `limit` services not in `seen` within the radius, nearest first, with miles."""
        approx = self._approx
        around: tuple[Resource, ...] = ()
        grid = self._service_grid.get(category)
        if grid is not None and limit > 0:
            chosen = self._first_owners(grid.nearest(origin, radius_miles, seen, limit)[0], limit)
            at = self._resource_at
            around = tuple(at(n, round(_miles(h), 1), bool(approx[n])) for n, h in chosen.items())
        return around

    def _first_owners(self, found: list[tuple[float, int]], limit: int) -> dict[int, float]:
        """The first `limit` listings owning points of `found` (nearest first), with the h of their nearest."""
        owner = self._points.owner
        chosen: dict[int, float] = {}
        if limit > 0:
            for h, p in found:
                n = owner[p]
                if n not in chosen:
                    chosen[n] = h
                    if len(chosen) == limit:
                        break
        return chosen

    def counties_near(self, origin: Point, category: str, radius_miles: float, limit: int) -> list[tuple[str, float]]:
        """The `limit` nearest counties (keys, miles) with a local service in the category, within the radius."""
        grid = self._county_grid.get(category)
        if grid is None:
            return []
        keys, owner = self._county_keys, self._county_points.owner
        return [(keys[owner[p]], _miles(h)) for h, p in heapq.nsmallest(limit, grid.within(origin, radius_miles))]

    # -- internals ------------------------------------------------------------------------------------------

    def _local(self, county: County, category: str) -> tuple[int, ...]:
        by_name = self._by_name.get((county.state.upper(), county.name.strip().lower(), category), ())
        if not county.fips:
            return by_name
        by_fips = self._by_fips.get((county.fips, category), ())
        if not by_fips or by_fips == by_name:
            return by_name or by_fips
        return self._order([*by_name, *by_fips])

    def _order(self, numbers: Iterable[int]) -> tuple[int, ...]:
        """Unique, in the order the SQL directory uses: name, then id."""
        return tuple(sorted(set(numbers), key=lambda n: (self._resource(n).name, self._resource(n).id)))

    def _number(self, value: object) -> int:
        """The number of a shared value (a source, a tuple of categories) in this index's table of them."""
        number = self._shared_numbers.get(value)
        if number is None:
            number = self._shared_numbers[value] = len(self._shared)
            self._shared.append(value)
        return number

    def _pack(self, number: int, r: Resource) -> None:
        texts = (
            r.id, r.name, "" if r.organization == r.name else r.organization, r.url or "", r.description or "",
            r.text_instructions or "",
        )
        phone_texts = [text for p in r.phones for text in (p.number, p.display, p.kind)]
        record = _RECORD.join((*texts, _PHONES.join(_FIELD.join((p.number, p.display, p.kind)) for p in r.phones)))
        if not r.organization or any(sep in text for text in (*texts, *phone_texts) for sep in _SEPARATORS):
            self._unpackable[number] = r  # kept whole rather than packed ambiguously
            record = ""
        self._records.append(record)
        self._source.append(self._number(r.source))
        self._categories.append(self._number(r.categories))
        self._national_flag.append(1 if r.national else 0)

    def _resource(self, n: int) -> Resource:
        """Listing `n` as a `Resource` (unpacked, and kept for the next lookup in a small cache)."""
        cache = self._cache
        found = cache.get(n)
        if found is not None:
            cache.move_to_end(n)
            return found
        found = self._unpackable.get(n) or self._unpack(n)
        if len(cache) >= _CACHE_SIZE:
            cache.popitem(last=False)  # the least recently used, one at a time: no lookup pays for a clear-out
        cache[n] = found
        return found

    def _resource_at(self, n: int, miles: float, approx: bool = False) -> Resource:
        """Listing `n` with a distance: from the cache if it is there, else unpacked with it in one go (a
        ZIP search meets listings far more often than it meets them again: they do not go into the cache)."""
        found = self._cache.get(n) or self._unpackable.get(n)
        return found.at(miles, approx) if found is not None else self._unpack(n, miles, approx)

    def _unpack(self, n: int, miles: float | None = None, approx: bool = False) -> Resource:
        rid, name, org, url, description, text_instructions, phones = self._records[n].split(_RECORD)
        numbers: tuple[Phone, ...] = ()
        if _PHONES in phones:
            numbers = tuple([new_phone(*p.split(_FIELD)) for p in phones.split(_PHONES)])
        elif phones:
            numbers = (new_phone(*phones.split(_FIELD)),)  # the usual case: one number
        return new_resource(
            rid, name, org or name, numbers,
            self._shared[self._categories[n]],  # type: ignore[arg-type]
            url or None, description or None, text_instructions or None,
            self._shared[self._source[n]],  # type: ignore[arg-type]
            bool(self._national_flag[n]),
            miles, approx,
        )


_RECORD, _PHONES, _FIELD = "\x1f", "\x1e", "\x1d"
_SEPARATORS = (_RECORD, _PHONES, _FIELD)
_CACHE_SIZE = 2_048


def _is_county(area: Area) -> bool:
    return area.extent == "county" and bool(area.state) and bool(area.county)


ServiceRow = tuple[str, str, str, str | None, str | None, str | None, str]
"""A service's id, name, organization's name, url, description, text instructions and source."""
PhoneRowValues = tuple[str, str, str | None]
"""A phone's number, display and type."""
AreaRow = tuple[str, str | None, str | None, str | None]
"""A service area's extent, state, county name and FIPS code."""


def _itself(value: Any) -> Any:
    return value


def to_listing(
    service: ServiceRow,
    phones: Iterable[PhoneRowValues],
    categories: Iterable[str],
    areas: Iterable[AreaRow],
    points: Iterable[tuple[float, float]] = (),
    share: Callable[[Any], Any] = _itself,
) -> Listing:
    """One active service as the index and the engine see it. `share` returns one copy of a repeated value
    (states, county names, sources, kinds, category tuples): a national directory repeats them 100,000 times."""
    service_id, name, organization, url, description, text_instructions, source = service
    service_areas = tuple(Area(share(e), share(st), share(c), f) for e, st, c, f in areas)
    return Listing(
        Resource(
            id=service_id,
            name=name,
            organization=name if organization == name else share(organization),
            phones=tuple(Phone(number=n, display=d, kind=share(k or "voice")) for n, d, k in phones),
            categories=share(tuple(share(code) for code in categories)),
            url=share(url),
            description=share(description),
            text_instructions=share(text_instructions),
            source=share(source or ""),
            national=any(a.extent == "national" for a in service_areas),
        ),
        service_areas,
        tuple((float(lat), float(lon)) for lat, lon in points),
    )
