"""The ZIP table's few columns the gazetteer needs, and the towns worked out from them, kept in two small files so
web workers never load `zipcodes` nor work the towns out again.

The `zipcodes` package answers from a table it decompresses into memory on first use and holds for the life of the
process; working the towns out of its city names makes many short-lived objects, whose memory a process keeps.
The first process to build a gazetteer writes both files to `INSTANCE_DIR` (atomically); every later process
reads them.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import zipcodes

from bot.core.places import Gazetteer, Town, zipcode_rows

log = logging.getLogger(__name__)

FORMAT = "2"
COLUMNS = ("zip_code", "state", "county", "lat", "long", "city", "acceptable_cities")
_LIST_SEPARATOR = "|"


def cache_path(directory: Path) -> Path:
    """Where the rows of this version of the `zipcodes` table are cached."""
    return directory / f"gazetteer-zipcodes-{zipcodes.__version__}-f{FORMAT}.tsv"


def towns_path(directory: Path) -> Path:
    """Where the towns worked out from this version of the table are cached (one line a town)."""
    return directory / f"gazetteer-towns-zipcodes-{zipcodes.__version__}-f{FORMAT}.tsv"


def load_gazetteer(directory: Path | None) -> Gazetteer:
    """The gazetteer from the cache files in `directory`, or from `zipcodes` (writing the cache for next time)."""
    if directory is not None:
        path, towns = cache_path(directory), towns_path(directory)
        if path.exists() and towns.exists():
            try:
                return Gazetteer.from_rows(_read(path), towns=_read_towns(towns))
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable gazetteer cache %s: %s", path, exc)
    rows = [{k: row.get(k) for k in COLUMNS} for row in zipcode_rows()]
    for row in rows:
        row["acceptable_cities"] = _LIST_SEPARATOR.join(row.get("acceptable_cities") or ())  # type: ignore[arg-type]
    gazetteer = Gazetteer.from_rows(rows)
    if directory is not None:
        _write(cache_path(directory), ("\t".join(_cell(row[k]) for k in COLUMNS) for row in rows))
        _write(towns_path(directory), ("\t".join(_town_cells(t)) for t in gazetteer.each_town()))
    return gazetteer


def _cell(value: object) -> str:
    return "" if value is None else str(value).replace("\t", " ")


def _town_cells(town: Town) -> tuple[str, ...]:
    return (town.alias, town.name, town.state, _LIST_SEPARATOR.join(town.counties), town.zip_code, str(town.number))


def _read_towns(path: Path) -> Iterator[Town]:
    shared: dict[str, tuple[str, ...]] = {}  # most towns lie in one county: its towns share one tuple of keys
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            alias, name, state, counties, zip_code, number = line.rstrip("\n").split("\t")
            keys = shared.get(counties)
            if keys is None:
                keys = shared[counties] = tuple(sys.intern(k) for k in counties.split(_LIST_SEPARATOR))
            yield Town(sys.intern(alias), sys.intern(name), sys.intern(state), keys, sys.intern(zip_code), int(number))


def _read(path: Path) -> Iterator[Mapping[str, object]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            values = line.rstrip("\n").split("\t")
            if len(values) != len(COLUMNS):
                raise ValueError(f"bad line in {path}: {line!r}")
            yield dict(zip(COLUMNS, values, strict=True))


def _write(path: Path, lines: Iterable[str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for line in lines:
                out.write(line + "\n")
        os.replace(temporary, path)
    except OSError as exc:
        log.info("could not cache the gazetteer in %s: %s", path.parent, exc)
