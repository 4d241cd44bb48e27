"""Directory size against a web worker's cost: index load time and memory, for one county, one state, the country.

Each size is loaded into a database (the bundled data and a synthetic state into SQLite files, as a small
deployment would run; the national directory is the benchmark's PostgreSQL one) and a fresh process builds the
app on it exactly as a gunicorn worker does, then reports its resident memory (now and peak) and how long the
directory index took to load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.synthetic import generate
from bot.config import PROJECT_ROOT
from bot.storage.db import init_database, install_dataset, make_engine
from bot.storage.gazetteer_cache import load_gazetteer

PROBE = r"""
import json, os, re, resource, time, logging
def status(key):
    return int(re.search(key + r":\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024
import bot.web
base = status("VmRSS")
started = time.perf_counter()
app = bot.web.create_app()
seconds = time.perf_counter() - started
parts = app.extensions["helpline_parts"]
print(json.dumps({"services": parts.directory.index.size, "app_seconds": seconds, "rss_mb": status("VmRSS"),
                  "peak_rss_mb": status("VmHWM"), "rss_before_app_mb": base,
                  # The index is built in a child process: its own peak, gone when it exits.
                  "child_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def probe(database_url: str, data_dir: Path, instance: Path, redis_url: str) -> dict[str, Any]:
    env = {
        **os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "ALLOW_SYNTHETIC_DATA": "1",
        "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": "scale-token", "HASH_SECRET": "scale", "LOG_LEVEL": "WARNING",
        "INSTANCE_DIR": str(instance),
    }
    env.pop("HELPLINE_DEV", None)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(
    national_url: str, national_dir: Path, redis_url: str, state: str = "FL", state_services: int = 4000
) -> list[dict[str, Any]]:
    """Probe the three sizes; returns one row each."""
    instance = PROJECT_ROOT / "instance" / "bench"
    load_gazetteer(instance)
    rows = []
    with tempfile.TemporaryDirectory(prefix="helpline-scale-") as tmp:
        county_url = f"sqlite:///{tmp}/county.sqlite3"
        engine = make_engine(county_url)
        init_database(engine, PROJECT_ROOT / "data")
        engine.dispose()
        print("scale: bundled data (a few counties) ...", flush=True)
        county = probe(county_url, PROJECT_ROOT / "data", instance, redis_url)
        rows.append({"size": "one county (the bundled data)", **county})
        state_url = f"sqlite:///{tmp}/state.sqlite3"
        generated = generate(
            Path(tmp) / "state", state_services, states=(state,), real_data_dirs=(PROJECT_ROOT / "data",)
        )
        engine = make_engine(state_url)
        install_dataset(engine, generated.dataset, allow_synthetic=True)
        engine.dispose()
        print(f"scale: one state ({state_services} synthetic services in {state}) ...", flush=True)
        rows.append({"size": f"one state ({state}, synthetic)", **probe(state_url, generated.out, instance, redis_url)})
    print("scale: the whole country ...", flush=True)
    rows.append({"size": "the whole country (synthetic)", **probe(national_url, national_dir, instance, redis_url)})
    return rows
