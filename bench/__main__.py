"""`python -m bench` (or `bench/run.sh`): every benchmark of the helpline, with results as JSON and a plot.

1. the directory: the benchmark's own PostgreSQL database holds a synthetic national directory (`--services`,
   default 100,000; generated once, reloaded only if it changed);
2. micro-benchmarks in-process, on the bundled data and on that directory;
3. HTTP: the helpline under gunicorn as the Procfile runs it, a bare endpoint and a floor endpoint, driven by wrk;
   the headline, full / floor throughput, is the median of alternating rounds (bare, floor, full) after a warm-up;
4. outbound: queued texts drained by 1, 2 and 4 rq workers into a local fake Twilio API (when the jobs exist).

Nothing here asserts a time. Results go to bench/results/ (git-ignored): a timestamped JSON and PNG, and
`latest.json` / `latest.png`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT, load_settings

RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 0.9
"""The headline's target: the full pipeline's throughput at least this share of the floor's."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=100_000, help="synthetic directory size (0: bundled data)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating full-speed rounds (bare, floor, full) behind the headline ratio")
    parser.add_argument("--round-duration", type=int, default=10,
                        help="seconds per wrk run within a round (at most --duration)")
    parser.add_argument("--rate", type=float, default=300.0, help="texts per second of the fixed-rate runs")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections of the full-speed runs")
    parser.add_argument("--more-workers", type=int, default=4,
                        help="also run the helpline with this many gunicorn workers (WEB_CONCURRENCY; 0: don't)")
    parser.add_argument("--samples", type=int, default=3000, help="calls per micro-benchmark")
    parser.add_argument("--outbound-texts", type=int, default=200, help="texts queued per outbound run")
    parser.add_argument("--outbound-rate", type=float, default=10.0, help="the fake Twilio API's rate limit (msg/s)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    for part in ("micro", "scale", "http", "outbound"):
        parser.add_argument(f"--skip-{part}", action="store_true", help=f"do not run the {part} benchmark")
    return parser.parse_args(argv)


def environment() -> dict[str, Any]:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, check=False).stdout.strip()
    except OSError:
        rev = ""
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "git": rev,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]],
        "note": "shared machine: other processes ran at the same time; compare ratios within one run",
    }


def micro(args: argparse.Namespace, database_url: str, work: Path) -> list[dict[str, Any]]:
    from bench import micro as m
    from bot.storage.db import init_database, make_engine, make_session_factory
    from bot.storage.listings import SqlDirectory

    instance = work / "micro-instance"
    instance.mkdir(exist_ok=True)
    settings = load_settings({"HELPLINE_DEV": "1", "HASH_SECRET": "bench", "INSTANCE_DIR": str(instance)})
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        bundled = make_engine(f"sqlite:///{tmp}/bundled.sqlite3")
        init_database(bundled, PROJECT_ROOT / "data")
        print("micro-benchmarks: bundled data ...", flush=True)
        runs.append(m.run("bundled data/", SqlDirectory(make_session_factory(bundled)), settings, args.samples))
        print("micro-benchmarks: reading one message ...", flush=True)
        runs[-1]["reading"] = m.reading(settings, SqlDirectory(make_session_factory(bundled)))
        bundled.dispose()
    if args.services:
        national = make_engine(database_url)
        print(f"micro-benchmarks: synthetic national directory ({args.services} services) ...", flush=True)
        runs.append(m.run(f"synthetic {args.services}", SqlDirectory(make_session_factory(national)), settings,
                          args.samples))
        national.dispose()
    return runs


def stages(args: argparse.Namespace, database_url: str, redis_url: str, data_dir: Path, work: Path) -> dict[str, Any]:
    from bench import micro as m

    print("per-stage timings of one text (in-process, real Redis and database) ...", flush=True)
    instance = work / "stages-instance"
    instance.mkdir(exist_ok=True)
    return m.stages(database_url, redis_url, data_dir, instance, min(args.samples, 1000))


def http(args: argparse.Namespace, database_url: str, redis_url: str, data_dir: Path, work: Path) -> dict[str, Any]:
    import redis

    from bench import http as h
    from bench.traffic import Traffic, write_requests
    from bot.storage.gazetteer_cache import load_gazetteer

    wrk = h.ensure_wrk()
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    round_seconds = max(1, min(args.round_duration, args.duration))
    # A lasting instance folder, as a deployment has: the gazetteer's small cache file lives there (written
    # here once), so no web worker has to load the `zipcodes` table.
    instance = PROJECT_ROOT / "instance" / "bench"
    places = load_gazetteer(instance)
    env = dict(os.environ)
    env.pop("HELPLINE_DEV", None)
    env.pop("WEB_CONCURRENCY", None)
    env.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_AUTH_TOKEN=h.TOKEN, HASH_SECRET="bench-hash-secret",
        PUBLIC_BASE_URL=h.PUBLIC_BASE_URL, INSTANCE_DIR=str(instance), LOG_LEVEL="INFO",
        # The folder the database was loaded from: the hot reloader would otherwise load data/ over it.
        DATA_DIR=str(data_dir), ALLOW_SYNTHETIC_DATA="1",
    )
    traffic = Traffic(places, seed=6)
    url = f"{h.PUBLIC_BASE_URL}/sms"
    files = {
        "max": work / "max.tsv",
        "rate": work / "rate.tsv",
    }
    counts = {
        "max": write_requests(files["max"], traffic, 8000, "1", h.TOKEN, url),
        "rate": write_requests(files["rate"], traffic, int(args.rate * args.duration / 4) + 200, "2", h.TOKEN, url),
    }
    print(f"signed {counts['max']} + {counts['rate']} requests", flush=True)
    sessions = redis.Redis.from_url(redis_url)
    servers: list[h.Server] = []
    runs: list[dict[str, Any]] = []
    rounds: list[dict[str, dict[str, Any]]] = []
    try:
        full = h.start_server("full", env, "wsgi:app", work)
        servers.append(full)
        bare = h.start_server("bare", env, "bench.bare:app", work)
        servers.append(bare)
        floor = h.start_server("floor", env, "bench.floor:app", work)
        servers.append(floor)
        print(f"starting: {' '.join(full.argv[2:])}  (and the same for bench.bare:app, bench.floor:app)", flush=True)
        h.wait_ready(full, workers, "directory index loaded")
        h.wait_ready(bare, workers, None)
        h.wait_ready(floor, workers, None)
        memory_at_start = {s.name: s.memory() for s in servers}
        for server in servers:  # warm-up, not recorded
            h.run_wrk(wrk, server, files["max"], work / "warm.json", 5, args.connections)
        # Full speed in alternating rounds: the machine is shared, so whatever else runs slows the three
        # servers of one round alike, and the median ratio over rounds is steadier than any one run.
        for number in range(1, max(1, args.rounds) + 1):
            this_round: dict[str, dict[str, Any]] = {}
            for server in (bare, floor, full):
                sessions.flushdb()
                label = f"{server.name} full speed"
                print(f"wrk: {label}, round {number} of {max(1, args.rounds)}, for {round_seconds} s ...", flush=True)
                result = h.run_wrk(wrk, server, files["max"], work / f"{server.name}-max-{number}.json", round_seconds,
                                   args.connections)
                result["label"] = label
                result["round"] = number
                result["load_average_after"] = h.load_average()
                this_round[server.name] = result
            rounds.append(this_round)
        runs.extend(rounds_median_runs(rounds))
        for server in (bare, full):
            sessions.flushdb()
            label = f"{server.name} {args.rate:g}/s"
            print(f"wrk: {label} for {args.duration} s ...", flush=True)
            result = h.run_wrk(wrk, server, files["rate"], work / f"{server.name}-rate.json", args.duration, 64,
                               args.rate)
            result["label"] = label
            result["load_average_after"] = h.load_average()
            runs.append(result)
        memory = {s.name: s.memory() for s in servers}
        for server in servers:
            server.stop()
        if args.more_workers:
            more = h.start_server(f"full-x{args.more_workers}", {**env, "WEB_CONCURRENCY": str(args.more_workers)},
                                  "wsgi:app", work)
            servers.append(more)
            h.wait_ready(more, args.more_workers, "directory index loaded")
            h.run_wrk(wrk, more, files["max"], work / "warm.json", 5, args.connections)
            for kind, rate, connections in (("max", 0.0, args.connections), ("rate", args.rate, 64)):
                sessions.flushdb()
                label = f"full x{args.more_workers} {'full speed' if not rate else f'{rate:g}/s'}"
                print(f"wrk: {label} for {args.duration} s ...", flush=True)
                result = h.run_wrk(wrk, more, files[kind], work / f"more-{kind}.json", args.duration, connections, rate)
                result["label"] = label
                result["load_average_after"] = h.load_average()
                runs.append(result)
            memory[more.name] = more.memory()
    finally:
        for server in servers:
            server.stop()
        sessions.flushdb()
        logs = RESULTS / "logs"  # the servers' own logs of the latest run, to look into an outlier afterwards
        logs.mkdir(parents=True, exist_ok=True)
        for server in servers:
            shutil.copyfile(server.log, logs / f"{server.name}.log")
    logs_of = {s.name: s.log for s in servers}
    for run in runs:
        if str(run["server"]).startswith("full"):
            run["longest_worker_pause"] = h.longest_pause(logs_of[run["server"]], run["started_at"], run["ended_at"])
    return {
        "command": " ".join(full.argv[2:]),
        "workers": workers,
        "runs": runs,
        "round_seconds": round_seconds,
        "rounds": [round_ratios(r) for r in rounds],
        **headline(rounds),
        "memory_mb": memory,
        "memory_mb_at_start": memory_at_start,
    }


def round_ratios(one: dict[str, dict[str, Any]]) -> dict[str, float]:
    """One round's throughputs and the ratios between them, and what a text costs the machine beyond the floor.

    At full speed the machine is saturated, so its CPUs x seconds over the requests answered is what one request
    takes of it (the load tool's and Redis' shares included, alike for both servers): the helpline's figure
    less the floor's is what the helpline does beyond the floor, and `TARGET` of the floor's throughput leaves
    the floor's figure x (1 / TARGET - 1) for it.
    """
    bare, floor, full = (float(one[name]["rps"]) for name in ("bare", "floor", "full"))
    cpus = os.cpu_count() or 1
    return {"bare_rps": bare, "floor_rps": floor, "full_rps": full, "full_to_floor": full / floor,
            "full_to_bare": full / bare, "floor_to_bare": floor / bare,
            "beyond_floor_us": cpus * 1e6 * (1 / full - 1 / floor),
            "beyond_floor_at_target_us": cpus * 1e6 / floor * (1 / TARGET - 1)}


def headline(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Each ratio as the median over rounds, with its spread (min, max); the per-text costs as medians."""
    ratios = [round_ratios(r) for r in rounds]
    out: dict[str, Any] = {"target_full_to_floor": TARGET}
    for key in ("full_to_floor", "full_to_bare", "floor_to_bare"):
        values = [r[key] for r in ratios]
        out[f"ratio_{key}"] = statistics.median(values)
        out[f"ratio_{key}_spread"] = [min(values), max(values)]
    for key in ("beyond_floor_us", "beyond_floor_at_target_us"):
        out[key] = statistics.median(r[key] for r in ratios)
    return out


def rounds_median_runs(rounds: list[dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The three runs of the round whose full / floor ratio is the median (the upper one of an even count):
    the latencies, errors and pauses the table shows come from one round, measured side by side."""
    ordered = sorted(rounds, key=lambda r: round_ratios(r)["full_to_floor"])
    middle = ordered[len(ordered) // 2]
    return [middle[name] for name in ("bare", "floor", "full")]


def outbound(args: argparse.Namespace, redis_url: str, work: Path) -> dict[str, Any]:
    try:
        from bench import outbound as o
    except ImportError as exc:
        return {"skipped": f"the outbound benchmark needs the rq jobs and the tests' fake Twilio API ({exc})"}
    return o.run(redis_url, args.outbound_texts, args.outbound_rate, work)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench.setup import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, load_directory

    database_url = args.database_url or DEFAULT_DATABASE_URL
    redis_url = args.redis_url or DEFAULT_REDIS_URL
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"environment": environment(), "database": database_url.split("@")[-1],
                              "redis": redis_url.split("@")[-1]}
    work = Path(tempfile.mkdtemp(prefix="helpline-bench-"))
    try:
        data_dir, services = load_directory(database_url, args.services, PROJECT_ROOT / "instance")
        report["directory_services"] = services
        if not args.skip_micro:
            report["micro"] = micro(args, database_url, work)
            report["stages"] = stages(args, database_url, redis_url, data_dir, work)
        if not args.skip_scale and args.services:
            from bench import scale

            report["scale"] = scale.run(database_url, data_dir, redis_url)
        if not args.skip_http:
            report["http"] = http(args, database_url, redis_url, data_dir, work)
        if not args.skip_outbound:
            report["outbound"] = outbound(args, redis_url, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["environment"]["load_average_at_end"] = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    json_path = RESULTS / f"bench-{stamp}.json"
    json_path.write_text(json.dumps(report, indent=2))
    shutil.copyfile(json_path, RESULTS / "latest.json")
    from bench.report import plot, summary

    png = RESULTS / f"bench-{stamp}.png"
    plot(report, png)
    if png.exists():  # no plot when neither the HTTP nor the micro-benchmarks ran
        shutil.copyfile(png, RESULTS / "latest.png")
    print(summary(report))
    print(f"\nresults: {json_path}" + (f"\nplot:    {png}" if png.exists() else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
