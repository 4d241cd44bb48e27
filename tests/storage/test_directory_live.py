"""The index as loaded from a real database: it answers as the SQL does, follows reloads, and outlives an outage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.core.directory import County
from bot.core.directory_index import DirectoryIndex
from bot.storage.db import init_database, make_engine, make_session_factory
from bot.storage.listings import SqlDirectory
from bot.storage.live_directory import (
    BuildFailed,
    DirectoryUnavailable,
    LiveDirectory,
    build_in_child,
    can_build_in_child,
)
from tests.places import shared_places as gazetteer

CATEGORIES = (
    "peer-support", "family", "mutual-support", "sober-living", "dual-diagnosis", "treatment", "food", "shelter",
    "jobs", "transportation", "crisis", "talk-now",
)
VOLUSIA = County("Volusia County", "FL")


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def live(engine: Engine, check_seconds: float = 5.0) -> LiveDirectory:
    """As the app wires a large directory: the index built in a child process that reads the same database."""
    return LiveDirectory(
        SqlDirectory(make_session_factory(engine)), gazetteer().centroids, check_seconds, database_url=url_of(engine),
        child_build_min_services=0,
    )


def deactivate_volusia_alliance(data_dir: Path) -> None:
    path = data_dir / "resources.yaml"
    marker = "    - id: volusia-recovery-alliance-peer-support\n"
    head, tail = path.read_text().split(marker)
    path.write_text(head + marker + tail.replace("status: active", "status: inactive", 1))


def test_the_index_answers_every_lookup_as_the_sql_directory_does(engine: Engine, data_dir: Path) -> None:
    init_database(engine, data_dir)
    sql = SqlDirectory(make_session_factory(engine))
    version, listings = sql.listings()
    index = DirectoryIndex.build(listings, gazetteer().centroids, version or "")
    # Every county with a listing, every county of the same name elsewhere, a sample of the rest, odd spellings.
    served = {key for category in CATEGORIES for key in sql.counties_served(category)}
    names = {key.split(":", 1)[1] for key in served}
    places = gazetteer().counties
    counties = [c for key, c in places.items() if key in served or c.name.lower() in names]
    counties += [c for key, c in sorted(places.items())[::300] if key not in served]
    counties += [County("Volusia", "FL", "12127"), County("volusia county", "FL"), County("Volusia County", "GA")]
    for category in CATEGORIES:
        assert index.counties_served(category) == sql.counties_served(category), category
        assert index.national_services(category) == sql.national_services(category), category
        for county in counties:
            assert index.services_in_county(county, category) == sql.services_in_county(county, category), (
                county, category,
            )


def test_a_reload_of_the_data_reaches_the_index_on_the_next_check(engine: Engine, data_dir: Path) -> None:
    init_database(engine, data_dir)
    directory = live(engine)
    assert directory.refresh() is True
    first = directory.index
    assert [r.name for r in directory.services_in_county(VOLUSIA, "peer-support")] == ["Volusia Recovery Alliance"]

    assert directory.refresh() is False, "unchanged data must not rebuild the index"
    assert directory.index is first

    deactivate_volusia_alliance(data_dir)
    init_database(engine, data_dir)
    assert directory.refresh() is True
    assert directory.services_in_county(VOLUSIA, "peer-support") == []


def test_lookups_check_for_new_data_in_the_background(engine: Engine, data_dir: Path) -> None:
    init_database(engine, data_dir)
    now = [0.0]
    directory = LiveDirectory(SqlDirectory(make_session_factory(engine)), gazetteer().centroids, 5.0, lambda: now[0])
    directory.refresh()
    directory.services_in_county(VOLUSIA, "peer-support")
    directory.wait()
    deactivate_volusia_alliance(data_dir)
    init_database(engine, data_dir)

    now[0] = 1.0
    assert directory.services_in_county(VOLUSIA, "peer-support"), "within the interval nothing is checked"
    directory.wait()
    assert directory.services_in_county(VOLUSIA, "peer-support")

    now[0] = 7.0
    directory.services_in_county(VOLUSIA, "peer-support")  # starts the check; this answer may still be old
    directory.wait()
    assert directory.services_in_county(VOLUSIA, "peer-support") == []


def test_the_last_index_keeps_serving_through_a_database_outage(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "db"
    engine = make_engine(f"sqlite:///{folder / 'helpline.sqlite3'}")
    init_database(engine, data_dir)
    directory = live(engine, check_seconds=0)
    directory.refresh()
    engine.dispose()
    shutil.move(folder, tmp_path / "gone")  # the database file is unreachable from now on

    with pytest.raises(OperationalError):
        directory.refresh()
    for _ in range(3):
        assert [r.name for r in directory.services_in_county(VOLUSIA, "peer-support")] == ["Volusia Recovery Alliance"]
        directory.wait()


def test_before_any_load_a_lookup_fails_loudly_rather_than_answering_empty(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nothing-here.sqlite3'}")
    (tmp_path / "missing").rmdir()
    directory = live(engine, check_seconds=0)
    with pytest.raises(DirectoryUnavailable):
        directory.services_in_county(VOLUSIA, "peer-support")
    directory.wait()
    engine.dispose()


def test_the_index_built_in_a_child_process_is_the_one_built_here(engine: Engine, data_dir: Path) -> None:
    init_database(engine, data_dir)
    version, listings = SqlDirectory(make_session_factory(engine)).listings()
    here = DirectoryIndex.build(listings, gazetteer().centroids, version or "")

    child_version, child = build_in_child(url_of(engine), gazetteer().centroids)

    assert child_version == version
    for category in CATEGORIES:
        assert child.counties_served(category) == here.counties_served(category)
        assert child.national_services(category) == here.national_services(category)
        for key in sorted(here.counties_served(category)):
            county = gazetteer().counties[key]
            assert child.services_in_county(county, category) == here.services_in_county(county, category)
            point = gazetteer().centroids[key]
            assert child.services_near(county, point, category, 25, 10) == here.services_near(
                county, point, category, 25, 10
            )
    assert live(engine).database_url is not None, "the app's path: a file database is built in a child"


def test_a_failed_build_in_the_child_leaves_the_last_index_serving(
    engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    init_database(engine, data_dir)
    directory = live(engine)
    directory.refresh()
    deactivate_volusia_alliance(data_dir)
    init_database(engine, data_dir)  # new data: the next check rebuilds ...
    directory.database_url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"  # ... from a database with no tables

    with pytest.raises(BuildFailed):
        directory.refresh()
    assert [r.name for r in directory.services_in_county(VOLUSIA, "peer-support")] == ["Volusia Recovery Alliance"]


def test_only_a_database_another_process_can_open_is_built_in_a_child(tmp_path: Path) -> None:
    assert can_build_in_child(f"sqlite:///{tmp_path / 'helpline.sqlite3'}")
    assert can_build_in_child("postgresql+psycopg://helpline@db.internal/helpline")
    assert not can_build_in_child("sqlite://")
    assert not can_build_in_child("sqlite:///:memory:")
    assert not can_build_in_child(None)
