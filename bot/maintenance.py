"""Retention: delete what we hold about people once it is older than `RETENTION_DAYS`.

Sessions, "seen" markers, replayed answers and rate counters already expire by TTL; this sweep also catches
keys that lost their TTL and background jobs (which carry a phone number while queued) kept past the limit.
Opt-outs are the record of consent and are kept until the person opts back in.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis
from rq import Queue
from rq.job import Job
from rq.registry import CanceledJobRegistry, FailedJobRegistry, FinishedJobRegistry

from bot.config import Settings, load_settings
from bot.storage.redis_server import client_for

log = logging.getLogger(__name__)

EXPIRING_PREFIXES = ("hl:session:", "hl:seen:", "hl:replay:", "hl:rate:")


@dataclass(frozen=True)
class PurgeReport:
    """What one sweep changed."""

    keys_given_ttl: int
    keys_shortened: int
    jobs_deleted: int

    def __str__(self) -> str:
        return (
            f"{self.keys_given_ttl} keys without expiry now expire, {self.keys_shortened} shortened, "
            f"{self.jobs_deleted} old jobs deleted"
        )


def purge(client: redis.Redis, retention_seconds: int) -> PurgeReport:
    """Enforce the retention limit on Redis keys and rq jobs."""
    given, shortened = 0, 0
    for prefix in EXPIRING_PREFIXES:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            ttl = client.ttl(key)
            if ttl == -1:
                client.expire(key, retention_seconds)
                given += 1
            elif ttl > retention_seconds:
                client.expire(key, retention_seconds)
                shortened += 1
    cutoff = time.time() - retention_seconds
    deleted = 0
    for queue in Queue.all(connection=client):
        for registry_cls in (FinishedJobRegistry, FailedJobRegistry, CanceledJobRegistry):
            registry = registry_cls(queue=queue)
            registry.cleanup()
            for job_id in registry.get_job_ids():
                job = Job.fetch(job_id, connection=client) if client.exists(f"rq:job:{job_id}") else None
                ended = job.ended_at.timestamp() if job is not None and job.ended_at else 0.0
                if job is None or ended < cutoff:
                    registry.remove(job_id, delete_job=True)
                    deleted += 1
    report = PurgeReport(given, shortened, deleted)
    log.info("purge: %s", report)
    return report


def purge_job() -> str:
    """The rq job form of `purge`: builds its own client from the environment's settings."""
    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set")
    return str(purge(client_for(settings.redis_url), retention_seconds(settings)))


def retention_seconds(settings: Settings) -> int:
    return settings.retention_days * 24 * 60 * 60
