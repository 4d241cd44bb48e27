"""The core tests' factories build what the running helpline builds: the same listings as the SQL directory
over the shipped data, the same hotlines and the same gazetteer as `bot.wiring`."""

from __future__ import annotations

from bot.storage.data_files import load_dataset
from bot.storage.db import make_engine, make_session_factory
from bot.storage.listings import SqlDirectory
from bot.wiring import gazetteer, hotlines
from tests import factories


def test_the_directory_factory_lists_what_the_database_lists(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        version, from_database = SqlDirectory(make_session_factory(engine)).listings()
    finally:
        engine.dispose()
    dataset = load_dataset(factories.DATA_DIR)
    assert factories.listings(dataset) == from_database
    assert factories.directory().version == version == dataset.content_hash


def test_the_hotlines_factory_names_the_lines_as_the_wiring_does() -> None:
    settings = factories.settings(HOTLINE_NAME_ES="Linea 24 horas", SAMHSA_DISPLAY="1-800-662-4357")
    assert factories.hotlines(settings) == hotlines(settings)
    assert factories.hotlines() == hotlines(factories.settings())


def test_the_gazetteer_factory_is_the_wired_gazetteer() -> None:
    built, wired = factories.gazetteer(), gazetteer()
    assert built.centroids == wired.centroids
    assert list(built.each_town()) == list(wired.each_town())
    assert built.resolve("32114", factories.PREFER_STATES, frozenset()) == wired.resolve(
        "32114", factories.PREFER_STATES, frozenset()
    )
