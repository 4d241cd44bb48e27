"""The in-memory directory index: the right services, in the right order, at the right distance. No database."""

from __future__ import annotations

import random

import pytest

from bot.core.directory import County, Phone, Resource
from bot.core.directory_index import Area, DirectoryIndex, Listing
from bot.core.places import miles

DAYTONA = (29.21, -81.02)  # ZIP 32114
CENTROIDS = {
    "FL:volusia county": (29.06, -81.18),
    "FL:flagler county": (29.47, -81.26),
    "FL:putnam county": (29.61, -81.74),
    "GA:volusia county": (32.0, -83.0),
}
VOLUSIA = County("Volusia County", "FL")


def listing(
    ident: str,
    *areas: Area,
    categories: tuple[str, ...] = ("peer-support",),
    points: tuple[tuple[float, float], ...] = (),
    name: str | None = None,
) -> Listing:
    resource = Resource(
        id=ident,
        name=name or ident.replace("-", " ").title(),
        organization="Org",
        phones=(Phone("+13865550100", "(386) 555-0100"),),
        categories=categories,
        national=any(a.extent == "national" for a in areas),
    )
    return Listing(resource, areas, points)


def county(name: str, state: str = "FL", fips: str | None = None) -> Area:
    return Area("county", state, name, fips)


def ids(resources: object) -> list[str]:
    return [r.id for r in resources]  # type: ignore[attr-defined]


@pytest.fixture
def index() -> DirectoryIndex:
    return DirectoryIndex.build(
        [
            listing("volusia-b", county("Volusia County", fips="12127"), name="B Volusia"),
            listing("volusia-a", county("Volusia County"), name="A Volusia"),
            listing("by-fips-only", county("Volusia Co.", fips="12127"), name="C By Fips"),
            listing("florida-wide", Area("state", "FL"), name="A Statewide"),
            listing("flagler", county("Flagler County")),
            listing("georgia-volusia", county("Volusia County", "GA")),
            listing("national", Area("national"), categories=("peer-support", "crisis")),
            listing("food-volusia", county("Volusia County"), categories=("food",)),
        ],
        CENTROIDS,
        version="v1",
    )


def test_a_county_gets_its_own_services_by_name_then_statewide_ones(index: DirectoryIndex) -> None:
    assert ids(index.services_in_county(VOLUSIA, "peer-support")) == ["volusia-a", "volusia-b", "florida-wide"]


def test_a_county_with_a_fips_code_also_gets_services_listed_under_that_code(index: DirectoryIndex) -> None:
    with_fips = County("Volusia County", "FL", "12127")
    assert ids(index.services_in_county(with_fips, "peer-support")) == [
        "volusia-a", "volusia-b", "by-fips-only", "florida-wide",
    ]


def test_names_match_in_any_case_and_states_never_mix(index: DirectoryIndex) -> None:
    assert ids(index.services_in_county(County("VOLUSIA COUNTY ", "fl"), "peer-support"))[0] == "volusia-a"
    assert ids(index.services_in_county(County("Volusia County", "GA"), "peer-support")) == ["georgia-volusia"]
    assert index.services_in_county(County("Nowhere County", "TX"), "peer-support") == []


def test_categories_are_kept_apart(index: DirectoryIndex) -> None:
    assert ids(index.services_in_county(VOLUSIA, "food")) == ["food-volusia"]
    assert ids(index.national_services("crisis")) == ["national"]
    assert index.national_services("food") == []


def test_counties_served_lists_local_listings_only(index: DirectoryIndex) -> None:
    assert index.counties_served("peer-support") == {
        "FL:volusia county", "FL:volusia co.", "FL:flagler county", "GA:volusia county",
    }
    assert index.counties_served("shelter") == frozenset()


def test_services_near_a_zip_come_nearest_first_with_miles() -> None:
    close, far = (29.22, -81.03), (29.00, -81.30)
    index = DirectoryIndex.build(
        [
            listing("far-in-county", county("Volusia County"), points=(far,)),
            listing("close-in-county", county("Volusia County"), points=(close,)),
            listing("no-address", county("Volusia County")),
            listing("flagler", county("Flagler County"), points=((29.40, -81.10),)),
            listing("flagler-no-address", county("Flagler County")),
            listing("putnam", county("Putnam County")),
        ],
        CENTROIDS,
    )

    near = index.services_near(VOLUSIA, DAYTONA, "peer-support", radius_miles=25, limit=10)

    assert ids(near.in_county) == ["close-in-county", "far-in-county", "no-address"]
    assert near.in_county[0].miles == round(miles(DAYTONA, close), 1)
    assert near.in_county[2].miles is None, "a county centre says nothing about where in the county"
    assert ids(near.around) == ["flagler", "flagler-no-address"]
    assert near.around[0].miles_approx is False
    assert near.around[1].miles_approx is True
    assert near.around[1].miles == round(miles(DAYTONA, CENTROIDS["FL:flagler county"]), 1)
    assert all(r.miles is not None and r.miles <= 25 for r in near.around)


def test_the_radius_and_the_limit_are_respected() -> None:
    rng = random.Random(1)
    spots = [(29.21 + rng.uniform(-1, 1), -81.02 + rng.uniform(-1, 1)) for _ in range(300)]
    index = DirectoryIndex.build(
        [listing(f"s{i}", county("Flagler County"), points=(p,)) for i, p in enumerate(spots)], CENTROIDS
    )

    near = index.services_near(VOLUSIA, DAYTONA, "peer-support", radius_miles=20, limit=5)

    expected = sorted((round(miles(DAYTONA, p), 1), f"s{i}") for i, p in enumerate(spots) if miles(DAYTONA, p) <= 20)
    assert [(r.miles, r.id) for r in near.around] == expected[:5]
    assert index.services_near(VOLUSIA, DAYTONA, "peer-support", 20, limit=0).around == ()


@pytest.mark.parametrize("origin", [(29.2, -81.0), (47.6, -122.3), (64.8, -147.7), (19.7, -155.1), (25.76, -80.19)])
def test_the_grid_finds_exactly_what_measuring_everything_finds(origin: tuple[float, float]) -> None:
    rng = random.Random(origin[0])
    spots = [(origin[0] + rng.uniform(-3, 3), origin[1] + rng.uniform(-6, 6)) for _ in range(2000)]
    index = DirectoryIndex.build(
        [listing(f"s{i}", county("Elsewhere", "TX"), points=(p,)) for i, p in enumerate(spots)], {}
    )
    for radius in (5, 30, 120):
        near = index.services_near(County("Somewhere", "TX"), origin, "peer-support", radius, limit=10_000)
        brute = sorted(f"s{i}" for i, p in enumerate(spots) if miles(origin, p) <= radius)
        assert sorted(ids(near.around)) == brute
        for limit in (1, 7, 40):
            nearest = index.services_near(County("Somewhere", "TX"), origin, "peer-support", radius, limit)
            by_distance = sorted((miles(origin, p), f"s{i}") for i, p in enumerate(spots) if miles(origin, p) <= radius)
            assert ids(nearest.around) == [name for _, name in by_distance[:limit]], (radius, limit)


def test_a_service_with_several_addresses_counts_at_its_nearest() -> None:
    index = DirectoryIndex.build(
        [listing("two-sites", county("Flagler County"), points=((29.9, -81.0), (29.3, -81.05)))], CENTROIDS
    )
    (found,) = index.services_near(VOLUSIA, DAYTONA, "peer-support", 50, 10).around
    assert found.miles == round(miles(DAYTONA, (29.3, -81.05)), 1)


def test_nearest_served_counties_within_a_radius(index: DirectoryIndex) -> None:
    near = index.counties_near(CENTROIDS["FL:putnam county"], "peer-support", radius_miles=120, limit=2)
    assert [key for key, _ in near] == ["FL:flagler county", "FL:volusia county"]
    assert near[0][1] == pytest.approx(miles(CENTROIDS["FL:putnam county"], CENTROIDS["FL:flagler county"]))
    assert index.counties_near(CENTROIDS["FL:putnam county"], "peer-support", radius_miles=5, limit=2) == []


def test_statewide_services_follow_the_county_s_own_in_a_zip_search(index: DirectoryIndex) -> None:
    near = index.services_near(VOLUSIA, DAYTONA, "peer-support", 25, 10)
    assert ids(near.in_county) == ["volusia-a", "volusia-b", "florida-wide"]
    assert "florida-wide" not in ids(near.around)


def test_a_big_county_gives_its_nearest_services_first() -> None:
    rng = random.Random(3)
    spots = [(29.0 + rng.uniform(-0.4, 0.4), -81.2 + rng.uniform(-0.4, 0.4)) for _ in range(80)]
    listings = [listing(f"v{i}", county("Volusia County"), points=(p,)) for i, p in enumerate(spots)]
    listings.append(listing("no-address", county("Volusia County")))
    index = DirectoryIndex.build(listings, CENTROIDS)

    near = index.services_near(VOLUSIA, DAYTONA, "peer-support", radius_miles=25, limit=5)

    by_distance = sorted((miles(DAYTONA, p), f"v{i}") for i, p in enumerate(spots))
    assert ids(near.in_county) == [name for _, name in by_distance[:5]] + ["no-address"]
    assert [r.miles for r in near.in_county[:5]] == [round(d, 1) for d, _ in by_distance[:5]]


def test_a_big_county_s_own_nearest_and_its_neighbours_are_what_measuring_everything_finds() -> None:
    rng = random.Random(5)
    own = [(29.0 + rng.uniform(-0.3, 0.3), -81.2 + rng.uniform(-0.3, 0.3)) for _ in range(150)]
    others = [(29.0 + rng.uniform(-0.6, 0.6), -81.2 + rng.uniform(-0.6, 0.6)) for _ in range(300)]
    listings = [listing(f"v{i}", county("Volusia County"), points=(p,)) for i, p in enumerate(own)]
    listings += [listing(f"f{i}", county("Flagler County"), points=(p,)) for i, p in enumerate(others)]
    listings.append(listing("no-address", county("Volusia County")))
    index = DirectoryIndex.build(listings, CENTROIDS)

    for origin in ((29.0, -81.2), (29.25, -80.95), (28.55, -81.7)):
        for radius, limit in ((5, 3), (25, 10), (60, 30)):
            near = index.services_near(VOLUSIA, origin, "peer-support", radius, limit)
            mine = sorted((miles(origin, p), f"v{i}") for i, p in enumerate(own))[:limit]
            theirs = sorted((miles(origin, p), f"f{i}") for i, p in enumerate(others) if miles(origin, p) <= radius)
            assert ids(near.in_county) == [name for _, name in mine] + ["no-address"], (origin, radius, limit)
            assert ids(near.around) == [name for _, name in theirs[:limit]], (origin, radius, limit)


def test_a_limit_of_nothing_gives_no_measured_services_in_a_big_county_either() -> None:
    spots = [(29.0 + i / 1000, -81.2) for i in range(40)]
    listings = [listing(f"v{i}", county("Volusia County"), points=(p,)) for i, p in enumerate(spots)]
    listings.append(listing("no-address", county("Volusia County")))
    listings.append(listing("flagler", county("Flagler County"), points=((29.40, -81.10),)))
    index = DirectoryIndex.build(listings, CENTROIDS)

    near = index.services_near(VOLUSIA, DAYTONA, "peer-support", 25, limit=0)

    assert ids(near.in_county) == ["no-address"]
    assert near.around == ()


def test_every_field_of_a_resource_comes_back_from_the_index_as_it_went_in() -> None:
    full = Resource(
        id="full", name="Full Service", organization="Parent Org",
        phones=(Phone("+13865550100", "(386) 555-0100"), Phone("741741", "741741", "text")),
        categories=("peer-support", "family"), url="https://example.org", description="Peers, every day.",
        text_instructions="Text HOME to 741741", source="https://example.org/source", national=True,
    )
    bare = Resource(id="bare", name="Bare", organization="Bare", phones=(), categories=("peer-support",))
    odd = Resource(id="odd", name="Odd\x1fName", organization="Org", phones=(), categories=("peer-support",))
    index = DirectoryIndex.build(
        [Listing(r, (Area("national"),)) for r in (full, bare, odd)], {}
    )
    assert index.national_services("peer-support") == [bare, full, odd]
    assert index.national_services("family") == [full]
