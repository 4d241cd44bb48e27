"""A private, throwaway copy of the directory: the data folder loaded into SQLite in a temporary folder.

`helpline flows test` and `helpline chat` run the real engine against the real directory code this way, on
the files as they are on disk now, without touching the database the running helpline uses.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.config import Settings
from bot.core.directory_index import DirectoryIndex
from bot.core.engine import Context
from bot.core.flows import CRISIS_FILE, Flow
from bot.core.places import Gazetteer
from bot.core.safety import load_crisis
from bot.storage.db import init_database, make_engine, make_session_factory
from bot.storage.listings import SqlDirectory
from bot.wiring import make_context


@contextmanager
def sandbox_directory(data_dir: Path, places: Gazetteer) -> Iterator[DirectoryIndex]:
    """The data folder loaded into a new SQLite file that is deleted afterwards, served as the running helpline
    serves it: by the in-memory index loaded from that database."""
    with tempfile.TemporaryDirectory(prefix="helpline-sandbox-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'directory.sqlite3'}")
        try:
            init_database(engine, Path(data_dir))
            source = SqlDirectory(make_session_factory(engine))
            centroids = places.centroids
            version, index = source.read_listings(lambda listings: DirectoryIndex.build(listings, centroids))
            index.version = version or ""
            yield index
        finally:
            engine.dispose()


@contextmanager
def sandbox_context(
    settings: Settings, flow: Flow, places: Gazetteer, data_dir: Path | None = None
) -> Iterator[Context]:
    """The engine's context for `flow` over a sandbox copy of the data folder (default `DATA_DIR`)."""
    crisis_file = Path(flow.source).parent / CRISIS_FILE if flow.source else settings.flows_dir / CRISIS_FILE
    crisis = load_crisis(crisis_file) if crisis_file.exists() else None
    with sandbox_directory(data_dir or settings.data_dir, places) as directory:
        yield make_context(settings, flow, directory, places, crisis)
