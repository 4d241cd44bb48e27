"""The core tests' directory factory lists what the running helpline lists: the SQL directory over the shipped
data. (The flow, gazetteer and hotlines factories call the very functions the wiring calls.)"""

from __future__ import annotations

from bot.storage.data_files import load_dataset
from bot.storage.db import make_engine, make_session_factory
from bot.storage.listings import SqlDirectory
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

