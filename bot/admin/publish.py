"""`helpline reload`: check the flows and data as a reload will, load the data into the database, and tell every
worker to reload (by incrementing the version each worker's `Reloader` watches in Redis)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from bot.admin.checks import check_flows_dir
from bot.config import Settings
from bot.reloader import VERSION_KEY
from bot.storage.data_check import check_data_dir
from bot.storage.db import init_database, make_engine
from bot.storage.gazetteer_cache import load_gazetteer
from bot.storage.redis_server import client_for


@dataclass
class PublishResult:
    """What `helpline reload` did."""

    ok: bool
    problems: list[str]
    summary: str


def publish(settings: Settings, redis_client: redis.Redis | None = None) -> PublishResult:
    """Check flows and data, load the data into the database, and tell every worker to reload."""
    places = load_gazetteer(settings.instance_dir)
    data = check_data_dir(settings.data_dir, settings, places=places)
    problems = [str(f) for f in data.findings]
    reports = check_flows_dir(settings.flows_dir, settings, data, places=places)
    for report in reports:
        problems += [str(p) for p in report.problems]
    if not data.ok or not all(r.ok for r in reports):
        return PublishResult(
            False, problems, "not published: fix the problems above; the helpline keeps serving what it had"
        )
    engine = make_engine(settings.database_url)
    try:
        result = init_database(engine, settings.data_dir, dataset=data.dataset)
    finally:
        engine.dispose()
    client = redis_client or client_for(settings.redis_url or "")
    version = int(client.incr(VERSION_KEY))
    state = "loaded" if result.changed else "unchanged"
    every = settings.reload_check_seconds
    return PublishResult(
        True,
        problems,
        f"published reload #{version}: data {state} ({result.services} services), "
        f"{len(reports)} flow file(s) checked; every worker picks it up within {every:g}s",
    )
