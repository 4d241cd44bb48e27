"""`python -m bench.directory_load URL [child|here]`: what loading the directory index costs a web worker.

One load per run, in a fresh process, as `LiveDirectory.refresh` does it: `child` builds the index in a child
process (the path a large directory takes), `here` builds it in this process. It prints, as JSON, the worker's
resident memory before and after, its peak, the child's peak, the seconds taken, and how long one full garbage
collection takes with the index loaded, before and after `gc.freeze`. These are the figures that decide
whether the child-process build and the freeze earn their place; run it against a synthetic national directory
(`python -m bench.synthetic --services 100000 --load`).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time

from bot.core.directory_index import DirectoryIndex
from bot.storage.db import make_engine, make_session_factory
from bot.storage.gazetteer_cache import load_gazetteer
from bot.storage.listings import SqlDirectory
from bot.storage.live_directory import LiveDirectory


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def full_collection_ms(rounds: int = 5) -> float:
    """The median time of a full garbage collection, in ms."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]


def measure(url: str, mode: str) -> dict[str, float | str]:
    """Load the index from `url` once, built in a child (`child`) or here (`here`), and measure it."""
    centroids = load_gazetteer(None).centroids
    engine = make_engine(url)
    directory = LiveDirectory(
        SqlDirectory(make_session_factory(engine)), centroids, database_url=url if mode == "child" else None
    )
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    directory.refresh()
    took = time.perf_counter() - started
    index: DirectoryIndex | None = directory.index
    frozen = full_collection_ms()
    gc.unfreeze()
    unfrozen = full_collection_ms()
    engine.dispose()
    return {
        "mode": mode,
        "services": index.size if index is not None else 0,
        "rss_before_mb": round(before),
        "rss_after_mb": round(rss_mb()),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "child_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "seconds": round(took, 1),
        "full_collection_ms_frozen": round(frozen, 1),
        "full_collection_ms_unfrozen": round(unfrozen, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures of one load as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2 or (len(args) == 2 and args[1] not in ("child", "here")):
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    print(json.dumps(measure(args[0], args[1] if len(args) == 2 else "child")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
