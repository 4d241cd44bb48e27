"""HSDS 3.0 in and out: the shipped directory survives export and import, and another tool's package loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.core.directory import County
from bot.storage.data_files import load_dataset
from bot.storage.db import init_database, make_engine, make_session_factory
from bot.storage.listings import SqlDirectory
from tests.places import shared_places as gazetteer

OTHER_TOOL = Path(__file__).parent / "fixtures" / "hsds" / "other-tool"


def directory_for(data_dir: Path, db: Path) -> SqlDirectory:
    engine = make_engine(f"sqlite:///{db}")
    init_database(engine, data_dir)
    return SqlDirectory(make_session_factory(engine))


def answers(directory: SqlDirectory, categories: list[str]) -> dict[str, object]:
    """What the directory answers for every category, in every county of the home state and a few others."""
    places = gazetteer()
    counties = [c for c in places.counties.values() if c.state == "FL"] + [
        County("Cuyahoga County", "OH"),
        County("Lake County", "IL"),
    ]
    out: dict[str, object] = {}
    for code in categories:
        out[f"national:{code}"] = directory.national_services(code)
        out[f"served:{code}"] = sorted(directory.counties_served(code))
        for county in counties:
            found = directory.services_in_county(county, code)
            if found:
                out[f"{county.key}:{code}"] = [
                    (r.name, r.organization, r.phones, r.url, r.text_instructions, r.source) for r in found
                ]
    return out


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_shipped_directory_round_trips_through_hsds(tmp_path: Path, fmt: str) -> None:
    runner = CliRunner()
    exported = tmp_path / ("package" if fmt == "csv" else "directory.json")
    result = runner.invoke(main, ["data", "export", "-f", fmt, str(exported)])
    assert result.exit_code == 0, result.output
    back = tmp_path / "imported"
    result = runner.invoke(main, ["data", "import", str(exported), "--into", str(back)])
    assert result.exit_code == 0, result.output
    shipped, imported = load_dataset(PROJECT_ROOT / "data"), load_dataset(back)
    assert [(o.id, o.name, o.source, o.assured_date) for o in shipped.organizations] == [
        (o.id, o.name, o.source, o.assured_date) for o in imported.organizations
    ]
    assert shipped.services == imported.services
    codes = [c.code for c in shipped.categories]
    before = answers(directory_for(PROJECT_ROOT / "data", tmp_path / "a.sqlite3"), codes)
    after = answers(directory_for(back, tmp_path / "b.sqlite3"), codes)
    assert len(before) > 20
    assert after == before


def test_the_export_is_an_hsds_tabular_package(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["data", "export", str(tmp_path)])
    package = json.loads((tmp_path / "datapackage.json").read_text())
    assert package["profile"] == "tabular-data-package"
    names = {r["name"]: r["path"] for r in package["resources"]}
    assert names == {
        "organization": "organizations.csv",
        "service": "services.csv",
        "phone": "phones.csv",
        "service_area": "service_areas.csv",
        "taxonomy": "taxonomies.csv",
        "taxonomy_term": "taxonomy_terms.csv",
        "attribute": "attributes.csv",
    }
    header = (tmp_path / "services.csv").read_text().splitlines()[0].split(",")
    assert header[:7] == ["id", "organization_id", "name", "description", "url", "status", "assured_date"]
    phones = (tmp_path / "phones.csv").read_text()
    assert "+13867777337,voice,,(386) 777-PEER" in phones


def test_a_package_from_another_hsds_tool_imports_and_loads(tmp_path: Path) -> None:
    runner = CliRunner()
    refused = runner.invoke(main, ["data", "import", str(OTHER_TOOL), "--into", str(tmp_path / "a")])
    assert refused.exit_code == 1
    assert (
        "organizations.csv:3: organization 'Flagler Food Pantry' says nothing of where its facts came from"
        in refused.output
    )
    result = runner.invoke(
        main,
        [
            "data",
            "import",
            str(OTHER_TOOL),
            "--into",
            str(tmp_path / "b"),
            "--source-url",
            "https://211.example.org/export",
        ],
    )
    assert result.exit_code == 0, result.output
    dataset = load_dataset(tmp_path / "b")
    [peer] = [s for s in dataset.services if s.name == "Peer support line"]
    assert [(p.number, p.display, p.type) for p in peer.phones] == [
        ("+13867777337", "386-777-7337", "voice")
    ]  # fax dropped
    assert [(a.extent, a.county, a.state) for a in peer.service_areas] == [("county", "Volusia County", "FL")]
    assert peer.source == "https://211.example.org/export"
    [pantry] = [s for s in dataset.services if s.name == "Pantry"]
    assert pantry.status == "inactive" and pantry.categories == ("bd-1800-2000",)
    directory = directory_for(tmp_path / "b", tmp_path / "c.sqlite3")
    assert [r.name for r in directory.services_in_county(County("Volusia County", "FL"), "peer-support")] == [
        "Peer support line"
    ]


def test_import_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "resources.yaml").write_text("[]\n")
    result = CliRunner().invoke(main, ["data", "import", str(OTHER_TOOL), "--into", str(tmp_path)])
    assert result.exit_code == 1 and "already exists; pass --force" in result.output
