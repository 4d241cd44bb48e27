"""The ZIP table's few columns the gazetteer needs, kept in a small file so web workers never load `zipcodes`.

The `zipcodes` package answers from a table it decompresses into memory on first use (37 MB, held for the life
of the process). The gazetteer needs seven columns of it (a few MB as text). The first process to build a gazetteer
writes them to `INSTANCE_DIR/gazetteer-<zipcodes version>.tsv` (atomically); every later process reads that.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import zipcodes

from bot.core.places import Gazetteer, zipcode_rows

log = logging.getLogger(__name__)

FORMAT = "2"
COLUMNS = ("zip_code", "state", "county", "lat", "long", "city", "acceptable_cities")
_LIST_SEPARATOR = "|"


def cache_path(directory: Path) -> Path:
    """Where the rows of this version of the `zipcodes` table are cached."""
    return directory / f"gazetteer-zipcodes-{zipcodes.__version__}-f{FORMAT}.tsv"


def load_gazetteer(directory: Path | None) -> Gazetteer:
    """The gazetteer from the cache file in `directory`, or from `zipcodes` (writing the cache for next time)."""
    if directory is not None:
        path = cache_path(directory)
        if path.exists():
            try:
                return Gazetteer.from_rows(_read(path))
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable gazetteer cache %s: %s", path, exc)
    rows = [{k: row.get(k) for k in COLUMNS} for row in zipcode_rows()]
    for row in rows:
        row["acceptable_cities"] = _LIST_SEPARATOR.join(row.get("acceptable_cities") or ())  # type: ignore[arg-type]
    if directory is not None:
        _write(cache_path(directory), rows)
    return Gazetteer.from_rows(rows)


def _read(path: Path) -> Iterator[Mapping[str, object]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            values = line.rstrip("\n").split("\t")
            if len(values) != len(COLUMNS):
                raise ValueError(f"bad line in {path}: {line!r}")
            yield dict(zip(COLUMNS, values, strict=True))


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for row in rows:
                out.write("\t".join("" if row[k] is None else str(row[k]).replace("\t", " ") for k in COLUMNS) + "\n")
        os.replace(temporary, path)
    except OSError as exc:
        log.info("could not cache the gazetteer in %s: %s", path.parent, exc)
