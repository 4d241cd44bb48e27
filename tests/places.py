"""One US county/ZIP gazetteer for the whole test run: it is read-only, and building it takes a second or two,
so tests hand this one to what they build (`create_app(..., places=...)`, the checks) instead of each
building its own as a process does."""

from __future__ import annotations

import functools

from bot.core.places import Gazetteer
from bot.storage.gazetteer_cache import load_gazetteer


@functools.cache
def shared_places() -> Gazetteer:
    """The gazetteer every test shares, built on first use."""
    return load_gazetteer(None)
