"""Tests for `SqlDirectory`: the domain's resource lookups answered from a real, freshly loaded database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from sqlalchemy import Engine, event

from bot.core.directory import County, Directory, Phone
from bot.storage.db import init_database, make_session_factory
from bot.storage.listings import SqlDirectory

VOLUSIA = County("Volusia County", "FL", "12127")
PUTNAM = County("Putnam County", "FL", "12107")
VOLUSIA_AREA = {"county": "Volusia County", "state": "FL", "fips": "12127"}


def service(service_id: str, name: str, **fields: Any) -> dict[str, Any]:
    """A service entry for resources.yaml with harmless defaults."""
    entry: dict[str, Any] = {
        "id": service_id,
        "name": name,
        "status": "active",
        "categories": ["peer-support"],
        "phones": [{"number": "+13867777337", "display": "(386) 777-PEER", "type": "voice"}],
        "service_areas": [VOLUSIA_AREA],
    }
    entry.update(fields)
    return entry


def write_services(data_dir: Path, *services: dict[str, Any]) -> None:
    """Replace resources.yaml with one test organization offering these services."""
    org = {
        "id": "test-org",
        "name": "Test Org",
        "source": "https://example.org/directory",
        "assured_date": "2026-11-27",
        "services": list(services),
    }
    yaml = YAML(typ="safe", pure=True)
    with (data_dir / "resources.yaml").open("w") as stream:
        yaml.dump([org], stream)


def directory_for(engine: Engine, data_dir: Path) -> SqlDirectory:
    init_database(engine, data_dir)
    return SqlDirectory(make_session_factory(engine))


@pytest.fixture
def shipped(engine: Engine, data_dir: Path) -> SqlDirectory:
    """A directory loaded with the shipped data."""
    return directory_for(engine, data_dir)


def names(resources: list[Any]) -> list[str]:
    return [r.name for r in resources]


def test_sql_directory_satisfies_the_domain_port(shipped: SqlDirectory) -> None:
    directory: Directory = shipped
    assert directory.counties_served("peer-support")


def test_volusia_peer_support_is_the_volusia_recovery_alliance(shipped: SqlDirectory) -> None:
    (resource,) = shipped.services_in_county(VOLUSIA, "peer-support")

    assert resource.name == "Volusia Recovery Alliance"
    assert resource.organization == "Volusia Recovery Alliance"
    assert resource.phones == (Phone("+13867777337", "(386) 777-PEER", "voice"),)
    assert resource.phones[0].text == "(386) 777-PEER (386-777-7337)"
    assert resource.categories == ("peer-support", "family")
    assert resource.source.startswith("seed:000_a77bac2094cb2093")
    assert resource.national is False


@pytest.mark.parametrize(
    "county",
    [County("volusia county", "FL"), County("VOLUSIA COUNTY", "FL"), County("Volusia", "FL", "12127")],
)
def test_county_matches_by_name_in_any_case_or_by_fips(shipped: SqlDirectory, county: County) -> None:
    assert names(shipped.services_in_county(county, "peer-support")) == ["Volusia Recovery Alliance"]


def test_same_county_name_in_another_state_matches_nothing(shipped: SqlDirectory) -> None:
    assert shipped.services_in_county(County("Volusia County", "GA"), "peer-support") == []


def test_putnam_has_both_recovery_community_organizations(shipped: SqlDirectory) -> None:
    resources = shipped.services_in_county(PUTNAM, "peer-support")

    assert names(resources) == ["Nehemiah Project", "Recovery Point"]
    assert [r.phones[0].number for r in resources] == ["+17707420706", "+13863853079"]


def test_treatment_in_putnam_is_the_sma_hotline(shipped: SqlDirectory) -> None:
    (resource,) = shipped.services_in_county(PUTNAM, "treatment")

    assert resource.id == "sma-healthcare-hotline"
    assert resource.phones == (Phone("+18005394228", "(800) 539-4228", "voice"),)


def test_cuyahoga_treatment(shipped: SqlDirectory) -> None:
    (resource,) = shipped.services_in_county(County("Cuyahoga County", "OH", "39035"), "treatment")

    assert resource.organization == "Community Assessment & Treatment Services, Inc."
    assert resource.phones[0].number == "+12164410200"
    assert resource.url == "https://www.communityassessment.org"


def test_national_services_are_not_county_services(shipped: SqlDirectory) -> None:
    assert "SAMHSA National Helpline" not in names(shipped.services_in_county(VOLUSIA, "treatment"))


def test_national_crisis_lines(shipped: SqlDirectory) -> None:
    resources = {r.id: r for r in shipped.national_services("crisis")}

    assert list(resources) == ["988-lifeline", "crisis-text-line"]
    assert all(r.national for r in resources.values())
    assert resources["988-lifeline"].phones == (Phone("988", "988", "voice"), Phone("988", "988", "text"))
    assert resources["crisis-text-line"].text_instructions == "Text HOME to 741741"
    assert resources["crisis-text-line"].source == "https://www.crisistextline.org"


def test_national_family_and_meeting_finders(shipped: SqlDirectory) -> None:
    assert names(shipped.national_services("family")) == ["Al-Anon Family Groups meetings", "SAMHSA National Helpline"]
    meetings = shipped.national_services("mutual-support")
    assert [(r.organization, r.url, r.phones) for r in meetings] == [
        ("Alcoholics Anonymous", "https://www.aa.org", ()),
        ("Narcotics Anonymous", "https://www.na.org", ()),
        ("SMART Recovery", "https://smartrecovery.org", ()),
    ]


def test_counties_served(shipped: SqlDirectory) -> None:
    assert shipped.counties_served("peer-support") == {
        "FL:volusia county",
        "FL:flagler county",
        "FL:st. johns county",
        "FL:putnam county",
        "FL:marion county",
        "OH:cuyahoga county",
    }
    assert shipped.counties_served("crisis") == {
        "FL:volusia county",
        "FL:flagler county",
        "FL:st. johns county",
        "FL:putnam county",
        "FL:marion county",
    }
    assert shipped.counties_served("food") == set()
    assert shipped.counties_served("no-such-category") == set()


def test_inactive_services_are_never_returned(engine: Engine, data_dir: Path) -> None:
    write_services(
        data_dir,
        service("open-local", "Open Local"),
        service("closed-local", "Closed Local", status="inactive"),
        service("closed-statewide", "Closed Statewide", status="inactive", service_areas=[{"state": "FL"}]),
        service("closed-national", "Closed National", status="inactive", service_areas=[{"national": True}]),
        service(
            "closed-flagler",
            "Closed Flagler",
            status="inactive",
            service_areas=[{"county": "Flagler County", "state": "FL", "fips": "12035"}],
        ),
    )
    directory = directory_for(engine, data_dir)

    assert names(directory.services_in_county(VOLUSIA, "peer-support")) == ["Open Local"]
    assert directory.national_services("peer-support") == []
    assert directory.counties_served("peer-support") == {"FL:volusia county"}


def test_local_services_come_before_statewide_ones(engine: Engine, data_dir: Path) -> None:
    write_services(
        data_dir,
        service("statewide-a", "A Statewide", service_areas=[{"state": "FL"}]),
        service("local-z", "Z Local"),
        service("local-b", "B Local"),
        service("both", "C Both", service_areas=[{"state": "FL"}, VOLUSIA_AREA]),
        service("other-state", "D Other State", service_areas=[{"state": "OH"}]),
        service("other-county", "E Other County", service_areas=[{"county": "Marion County", "state": "FL"}]),
    )
    directory = directory_for(engine, data_dir)

    assert names(directory.services_in_county(VOLUSIA, "peer-support")) == [
        "B Local",
        "C Both",
        "Z Local",
        "A Statewide",
    ]
    assert names(directory.services_in_county(County("Marion County", "FL"), "peer-support")) == [
        "E Other County",
        "A Statewide",
        "C Both",
    ]
    assert directory.counties_served("peer-support") == {"FL:volusia county", "FL:marion county"}


def test_category_filter_applies(engine: Engine, data_dir: Path) -> None:
    write_services(
        data_dir,
        service("peer", "Peer", categories=["peer-support"]),
        service("food", "Food", categories=["food", "family"]),
    )
    directory = directory_for(engine, data_dir)

    assert names(directory.services_in_county(VOLUSIA, "food")) == ["Food"]
    assert names(directory.services_in_county(VOLUSIA, "family")) == ["Food"]
    assert directory.services_in_county(VOLUSIA, "food")[0].categories == ("food", "family")


def test_lookups_run_a_fixed_number_of_queries(engine: Engine, data_dir: Path) -> None:
    write_services(data_dir, *(service(f"svc-{i}", f"Service {i}") for i in range(20)))
    directory = directory_for(engine, data_dir)
    statements: list[str] = []

    def count(*_args: Any) -> None:
        statements.append("query")

    event.listen(engine, "before_cursor_execute", count)
    try:
        resources = directory.services_in_county(VOLUSIA, "peer-support")
        in_county = len(statements)
        statements.clear()
        directory.national_services("crisis")
        national = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(resources) == 20
    assert in_county <= 4
    assert national <= 4
