"""The rq worker that runs `bot.jobs`, tuned so a job whose worker died is run again within seconds.

rq counts a started job as abandoned when its worker stops sending heartbeats for a minute past the
heartbeat interval, and looks for such jobs every ten minutes. A text the caller is waiting for should not
wait that long after a crash or a redeploy, so here the grace is two heartbeats (`JOB_HEARTBEAT_SECONDS`,
10 by default: a dead worker's job is retried within about a minute) and every worker looks every three.
Abandoned jobs are retried through their `Retry`; `bot.jobs.deliver` makes sure that never sends twice.
"""

from __future__ import annotations

import logging

import redis
from rq import Worker
from rq.job import Job
from rq.serializers import JSONSerializer

from bot.config import Settings
from bot.jobs import text_queue

log = logging.getLogger(__name__)


class HelplineWorker(Worker):
    """rq's forking worker with a short grace before a silent job counts as abandoned."""

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """How long a started job may go without a heartbeat: the interval plus two more."""
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = max(1, min(int(job.timeout - working_time), interval))
        return int(interval + 2 * self.job_monitoring_interval)


def make_worker(settings: Settings, connection: redis.Redis | None = None) -> HelplineWorker:
    """A worker on the helpline queue, wired from settings."""
    if connection is None:
        if not settings.redis_url:
            raise RuntimeError("REDIS_URL is not set; the worker needs the same Redis as the web app")
        # No short socket timeout here: the worker blocks on Redis while it waits for jobs.
        connection = redis.Redis.from_url(settings.redis_url, health_check_interval=30)
    beat = settings.job_heartbeat_seconds
    return HelplineWorker(
        [text_queue(connection)],
        connection=connection,
        serializer=JSONSerializer,
        job_monitoring_interval=beat,
        maintenance_interval=3 * beat,
        worker_ttl=3 * beat + 15,  # rq waits for a job (worker_ttl - 15) seconds between maintenance rounds
        log_job_description=False,  # a description would show the job's arguments: the number
    )


def run_worker(settings: Settings, *, burst: bool = False) -> bool:
    """Work until stopped (or, with `burst`, until the queue is empty)."""
    worker = make_worker(settings)
    log.info("worker %s listening on %s", worker.name, ", ".join(worker.queue_names()))
    return worker.work(burst=burst, logging_level=settings.log_level, with_scheduler=False)
