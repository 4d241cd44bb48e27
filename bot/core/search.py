"""Finding resources for a county or a ZIP code and topic, with a useful answer when there are none.

A county with no local listing is never a dead end: the nearest counties that have one are offered,
with their distance, beside the national lines for the topic. A ZIP code also measures: the county's
services come nearest first, then others within a radius of the ZIP, each with its distance in miles.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.directory import County, Directory, Resource
from bot.core.places import Gazetteer


@dataclass(frozen=True)
class NearbyCounty:
    county: County
    miles: float
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class SearchResult:
    """Local services, or the nearest served counties when there are none, and national ones.

    After a ZIP search, `around` holds services in other counties within `radius` miles of `zip_code`.
    """

    county: County
    topic: str
    local: tuple[Resource, ...]
    nearby: tuple[NearbyCounty, ...]
    national: tuple[Resource, ...]
    around: tuple[Resource, ...] = ()
    zip_code: str = ""
    radius: float = 0.0


NEARBY_RADIUS_MILES = 120.0
ZIP_RADIUS_MILES = 25.0
AROUND_LIMIT = 10


def find_resources(
    directory: Directory, places: Gazetteer, county: County, topic: str, radius: float = NEARBY_RADIUS_MILES
) -> SearchResult:
    """Everything we can offer someone in `county` for `topic`; nearby counties count within `radius` miles."""
    local = tuple(directory.services_in_county(county, topic))
    nearby = () if local else _nearest_counties(directory, places, county, topic, radius)
    return SearchResult(county, topic, local, nearby, _national(directory, topic, local))


def find_near_zip(
    directory: Directory,
    places: Gazetteer,
    county: County,
    zip_code: str,
    topic: str,
    radius: float = ZIP_RADIUS_MILES,
    limit: int = AROUND_LIMIT,
) -> SearchResult:
    """What we can offer someone at a ZIP code: its county's services nearest first, then others within `radius`."""
    origin = places.zip_point(zip_code)
    if origin is None:
        return find_resources(directory, places, county, topic)
    near = directory.services_near(county, origin, topic, radius, limit)
    if not near.in_county and not near.around:
        result = find_resources(directory, places, county, topic)
        return SearchResult(county, topic, (), result.nearby, result.national, (), zip_code, radius)
    national = _national(directory, topic, near.in_county + near.around)
    return SearchResult(county, topic, near.in_county, (), national, near.around, zip_code, radius)


def _nearest_counties(
    directory: Directory, places: Gazetteer, county: County, topic: str, radius: float
) -> tuple[NearbyCounty, ...]:
    here = places.centroids.get(county.key)
    if here is None:
        return ()
    nearby: list[NearbyCounty] = []
    for key, distance in directory.counties_near(here, topic, radius, limit=3):
        other = places.counties.get(key)
        if other is None or key == county.key or len(nearby) == 2:
            continue
        found = tuple(directory.services_in_county(other, topic))
        if found:
            nearby.append(NearbyCounty(other, distance, found))
    return tuple(nearby)


def _national(directory: Directory, topic: str, shown: tuple[Resource, ...]) -> tuple[Resource, ...]:
    shown_ids = {r.id for r in shown}
    return tuple(r for r in directory.national_services(topic) if r.id not in shown_ids)
