"""Retention: the purge sweep caps every per-person key and deletes old jobs; opt-outs stay."""

from __future__ import annotations

from click.testing import CliRunner
from rq import Queue
from rq.job import Job

from bot.cli import main
from bot.maintenance import purge


def test_keys_without_expiry_get_one_and_long_ones_are_shortened(redis_client) -> None:
    redis_client.set("hl:session:sms:abc", "{}")
    redis_client.set("hl:seen:sms:abc", "1", ex=10 * 86400)
    redis_client.set("hl:optout:abc", "1")
    report = purge(redis_client, retention_seconds=3600)
    assert report.keys_given_ttl == 1 and report.keys_shortened == 1
    assert 0 < redis_client.ttl("hl:session:sms:abc") <= 3600
    assert 0 < redis_client.ttl("hl:seen:sms:abc") <= 3600
    assert redis_client.ttl("hl:optout:abc") == -1


def test_failed_jobs_past_retention_are_deleted(redis_client) -> None:
    queue = Queue("texts", connection=redis_client)
    job = queue.enqueue("bot.maintenance.purge_job")
    job.set_status("failed")
    from rq.registry import FailedJobRegistry

    registry = FailedJobRegistry(queue=queue)
    registry.add(job, ttl=10**6)
    assert job.id in registry.get_job_ids()
    report = purge(redis_client, retention_seconds=3600)
    assert report.jobs_deleted == 1
    assert not Job.exists(job.id, connection=redis_client)


def test_purge_command(env, redis_client, monkeypatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    redis_client.set("hl:session:sms:def", "{}")
    result = CliRunner().invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    assert "1 keys without expiry now expire" in result.output
