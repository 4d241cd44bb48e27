"""Reading counties and ZIP codes from what people type: forgiving, and asking when unsure."""

from __future__ import annotations

import pytest

from bot.core import places as places_module
from bot.core.places import Gazetteer

PREFER = (("FL",), ("OH",))
SERVED = {"FL:volusia county", "FL:flagler county", "FL:st. johns county", "FL:putnam county", "FL:marion county"}


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("volusia", "Volusia County, FL"),
        ("VOLUSIA COUNTY!!", "Volusia County, FL"),
        ("volusa", "Volusia County, FL"),
        ("flager", "Flagler County, FL"),
        ("St. Johns", "St. Johns County, FL"),
        ("saint johns county", "St. Johns County, FL"),
        ("st johns", "St. Johns County, FL"),
        ("i live in putnam", "Putnam County, FL"),
        ("Marion", "Marion County, FL"),
        ("marion county oh", "Marion County, OH"),
        ("Miami Dade", "Miami-Dade County, FL"),
        ("lake", "Lake County, FL"),
        ("cuyahoga", "Cuyahoga County, OH"),
        ("cook county il", "Cook County, IL"),
        ("32114", "Volusia County, FL"),
        ("my zip is 32136", "Flagler County, FL"),
        ("32114-1234", "Volusia County, FL"),
    ],
)
def test_sure_matches(places: Gazetteer, text: str, county: str) -> None:
    match = places.resolve(text, PREFER, SERVED)
    assert match.county is not None and match.county.label == county


@pytest.mark.parametrize(("text", "first"), [("st. jon", "St. Johns County, FL"), ("marian", "Marion County, FL")])
def test_doubtful_matches_become_a_question(places: Gazetteer, text: str, first: str) -> None:
    match = places.resolve(text, PREFER, SERVED)
    assert match.county is None
    assert match.candidates and match.candidates[0].label == first


@pytest.mark.parametrize("text", ["hello", "help", "food", "yes", "1", "I need peer support", "", "what is this"])
def test_ordinary_words_are_not_places(places: Gazetteer, text: str) -> None:
    match = places.resolve(text, PREFER, SERVED)
    assert match.county is None and not match.candidates


@pytest.mark.parametrize(
    "text",
    [
        "im scared",  # Carey, OH is a near spelling of "scared"
        "scared",
        "marijuana",  # Marianna, FL
    ],
)
def test_a_word_spelled_right_is_not_a_misspelled_place(places: Gazetteer, text: str) -> None:
    match = places.resolve(text, PREFER, SERVED)
    assert match.county is None and not match.candidates, match


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("palm coats", "Flagler County, FL"),  # two words, each spelled right: a typo of Palm Coast all the same
        ("daytona baech", "Volusia County, FL"),
        ("volusa", "Volusia County, FL"),
    ],
)
def test_a_typo_is_still_forgiven(places: Gazetteer, text: str, county: str) -> None:
    match = places.resolve(text, PREFER, SERVED)
    assert match.county is not None and match.county.label == county, match


def test_a_town_named_by_one_ordinary_word_is_still_offered(places: Gazetteer) -> None:
    match = places.resolve("i live in the villages", PREFER, SERVED)
    assert match.candidates and match.candidates[0].label == "The Villages, FL", match


def test_unknown_zip_is_reported_as_such(places: Gazetteer) -> None:
    match = places.resolve("00000", PREFER, SERVED)
    assert match.zip_unknown and match.zip_code == "00000"


def test_nearest_served_counties_by_distance(places: Gazetteer) -> None:
    lake = places.counties["FL:lake county"]
    nearest = places.nearest(lake, SERVED, limit=2)
    assert nearest[0][0].name in {"Marion County", "Volusia County"}
    assert all(0 < miles < 80 for _, miles in nearest)


def test_fuzzy_answers_are_remembered_within_a_bound(places: Gazetteer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(places_module, "FUZZY_MEMORY", 3)
    places._scored.clear()
    for _ in range(2):
        for text in ("volusa", "flager", "marian", "st. jon", "hello"):
            match = places.resolve(text, PREFER, SERVED)
            assert len(places._scored) <= 3
        assert match.county is None and not match.candidates
        assert places.resolve("volusa", PREFER, SERVED).county == places.counties["FL:volusia county"]
