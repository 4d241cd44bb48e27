"""Finding resources for a county and topic, with a useful answer when the county has none.

A county with no local listing is never a dead end: the nearest counties that have one are offered,
with their distance, beside the national lines for the topic.
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
    """Local services, or the nearest served counties when there are none, and national ones."""

    county: County
    topic: str
    local: tuple[Resource, ...]
    nearby: tuple[NearbyCounty, ...]
    national: tuple[Resource, ...]


NEARBY_RADIUS_MILES = 120.0


def find_resources(
    directory: Directory, places: Gazetteer, county: County, topic: str, radius: float = NEARBY_RADIUS_MILES
) -> SearchResult:
    """Everything we can offer someone in `county` for `topic`; nearby counties count within `radius` miles."""
    local = tuple(directory.services_in_county(county, topic))
    nearby: list[NearbyCounty] = []
    if not local:
        for other, distance in places.nearest(county, directory.counties_served(topic), limit=2):
            if distance > radius:
                continue
            found = tuple(directory.services_in_county(other, topic))
            if found:
                nearby.append(NearbyCounty(other, distance, found))
    local_ids = {r.id for r in local}
    national = tuple(r for r in directory.national_services(topic) if r.id not in local_ids)
    return SearchResult(county, topic, local, tuple(nearby), national)
