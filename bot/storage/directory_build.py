"""The directory index built in a short-lived child process, and handed back through a pipe.

Reading 100,000 listings and indexing them needs several times the finished index at the peak (rows, `Listing`s,
the build's lists and sets), and a process keeps much of its peak: built in place, a web worker that holds
~140 MB once loaded peaked at ~215 MB. So a worker starts `python -m bot.storage.directory_build`, tells it
the database and the county centres on stdin, and unpickles the index as the child writes it to stdout: the
worker's own heap only ever holds the finished index, laid out in one piece. The child's peak is its own, and
its memory goes back to the system when it exits.

The pickle comes from our own child over a pipe: never from a file that anyone else could have written.
"""

from __future__ import annotations

import json
import logging
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import IO

from sqlalchemy.engine import make_url

from bot.core.directory import Point
from bot.core.directory_index import DirectoryIndex

_MODULE = "bot.storage.directory_build"
_ERROR_LINES = 5
"""How much of a failed child's traceback this process logs: its last lines say what went wrong."""

log = logging.getLogger(__name__)


class BuildFailed(RuntimeError):
    """The child process could not build the index (database unreachable, killed...): its errors are in the log."""


def can_build_in_child(database_url: str | None) -> bool:
    """Whether a separate process can reach the same database (not an in-memory SQLite one)."""
    if not database_url:
        return False
    url = make_url(database_url)
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    return url.get_backend_name() != "sqlite" or not in_memory


def build_in_child(
    database_url: str, centroids: Mapping[str, Point], timeout: float = 900.0
) -> tuple[str | None, DirectoryIndex]:
    """(content hash, index) of the active listings in `database_url`, built by a child process.

    Raises `BuildFailed` when the child fails, after logging the end of its traceback through this process's
    logger (not straight onto its stderr). The URL (with any password) goes over stdin, never on a command line
    that `ps` shows.
    """
    request = json.dumps({"database_url": database_url, "centroids": {k: list(v) for k, v in centroids.items()}})
    # The child's stderr goes to a file, not a pipe: a pipe nobody reads while the index streams could fill up.
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
        [sys.executable, "-m", _MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, close_fds=True
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(request.encode())
            child.stdin.close()
            # Read as it comes: the pickle is never whole in this process's memory, only the objects it makes.
            version: str | None = pickle.load(child.stdout)
            index: DirectoryIndex = pickle.load(child.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            child.kill()
            child.wait()
            raise _failed(child.returncode, errors) from exc
        finally:
            child.stdout.close()
        if child.wait(timeout) != 0:
            raise _failed(child.returncode, errors)
    return version, index


def _failed(returncode: int | None, errors: IO[bytes]) -> BuildFailed:
    errors.seek(0)
    tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-_ERROR_LINES:]
    log.error("the directory build process failed (exit %s): %s", returncode, " | ".join(tail) or "no output")
    return BuildFailed(f"the directory build process failed (exit {returncode})")


def main() -> int:
    """The child: read the request on stdin, build, write (version, index) pickled to stdout."""
    from bot.storage.db import make_engine, make_session_factory
    from bot.storage.directory_repo import SqlDirectory

    request = json.loads(sys.stdin.buffer.read())
    centroids = {k: (float(v[0]), float(v[1])) for k, v in request["centroids"].items()}
    engine = make_engine(request["database_url"])
    try:
        source = SqlDirectory(make_session_factory(engine))
        version, index = source.read_listings(lambda listings: DirectoryIndex.build(listings, centroids))
    finally:
        engine.dispose()
    out = sys.stdout.buffer
    pickle.dump(version, out, protocol=pickle.HIGHEST_PROTOCOL)
    pickle.dump(index, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
