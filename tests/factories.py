"""Small factories for the core's tests: a flow, a gazetteer, a directory, the hotlines, the engine's context.

Everything here is built from the shipped files by the core's own loaders (and `bot.storage.data_files`, which
only reads YAML), never through a database or Redis, so the core's tests run on the core alone.
`tests/test_factories.py` holds these to what the running helpline builds through SQLite and `bot.wiring`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT, Settings, load_settings
from bot.config import hotlines as wired_hotlines
from bot.core.directory_index import DirectoryIndex, Listing
from bot.core.engine import Context
from bot.core.flows import Flow, load_flow
from bot.core.places import Gazetteer
from bot.core.reply import Hotlines
from bot.core.safety import CrisisScreen, load_crisis
from bot.storage.data_files import Dataset, dataset_listings, load_dataset
from tests.places import shared_places

FLOWS_DIR = PROJECT_ROOT / "flows"
DATA_DIR = PROJECT_ROOT / "data"
PREFER_STATES = (("FL",), ("OH",))


def flow(path: Path = FLOWS_DIR / "main.yaml") -> Flow:
    """A flow loaded by the core's loader: the shipped main flow unless `path` names another."""
    return load_flow(path)


def crisis(path: Path = FLOWS_DIR / "crisis.yaml") -> CrisisScreen:
    """The crisis screen from the shipped `flows/crisis.yaml` (or `path`)."""
    return load_crisis(path)


def gazetteer() -> Gazetteer:
    """The US county/ZIP table, one for the whole test run (it is read-only): `tests/places.py`."""
    return shared_places()


def settings(**env: str) -> Settings:
    """Settings from their defaults (plus `env`), as the offline tools read them: no secrets, no instance."""
    return load_settings({"INSTANCE_DIR": "/nonexistent", **env}, require_secrets=False)


def hotlines(from_settings: Settings | None = None) -> Hotlines:
    """The lines every reply carries, as the helpline wires them from `from_settings` (default: defaults)."""
    return wired_hotlines(from_settings or settings())


def listings(dataset: Dataset) -> list[Listing]:
    """The dataset's active services as index listings, in the order `SqlDirectory.listings` gives (by id)."""
    return sorted(dataset_listings(dataset), key=lambda listing: listing.resource.id)


def directory(data_dir: Path = DATA_DIR) -> DirectoryIndex:
    """The in-memory directory index over the data files in `data_dir` (the shipped `data/` by default)."""
    dataset = load_dataset(data_dir)
    return DirectoryIndex.build(listings(dataset), gazetteer().centroids, dataset.content_hash)


def context(**overrides: Any) -> Context:
    """The engine's context as the helpline wires it: shipped main flow, gazetteer, directory, hotlines, crisis
    screen; `overrides` replace any of its fields."""
    built = Context(
        flow=flow(),
        places=gazetteer(),
        directory=directory(),
        hotlines=hotlines(),
        prefer_states=PREFER_STATES,
        sms_budget=4,
        crisis=crisis(),
    )
    return dataclasses.replace(built, **overrides) if overrides else built
