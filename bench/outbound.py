"""Outbound: N queued texts drained by 1, 2 and 4 rq workers into a local fake Twilio API with a rate limit.

The texts are queued with the app's own `bot.jobs.enqueue_text` and sent by real `helpline worker --burst`
processes through the real `twilio` client (`TWILIO_API_BASE_URL` points it at the fake). The fake is the
tests' `FakeTwilio` with a limit: past `rate` accepted messages in any one second it answers 429 (error
20429), as Twilio does, and the jobs back off and retry as they would in production (`TEXT_RETRY_DELAYS`).
Measured: messages per second accepted, the most accepted in any one-second window (the limit respected?),
how many were refused with 429, and every text's fate: lost (never accepted) or sent twice (same body twice).
"""

from __future__ import annotations

import bisect
import os
import subprocess
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import redis

from bot.config import PROJECT_ROOT
from bot.jobs import enqueue_text, text_queue
from tests.fake_twilio import FakeTwilio

ACCOUNT_SID = "AC" + "e" * 32
TOKEN = "bench-outbound-token-0123456789ab"


class RateLimitedTwilio(FakeTwilio):
    """`FakeTwilio` that accepts at most `rate` messages in any one-second window and answers 429 beyond."""

    def __init__(self, rate: float) -> None:
        super().__init__(ACCOUNT_SID, TOKEN)
        self.rate = rate
        self.accepted_at: list[float] = []
        self.refused = 0
        self._window: deque[float] = deque()
        self._gate = threading.Lock()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        if method == "POST":
            with self._gate:
                now = time.monotonic()
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate:
                    self.refused += 1
                    self.plan("429")
                else:
                    self._window.append(now)
        super()._handle(handler, method)

    def _accept(self, form: dict[str, str]) -> dict[str, object]:
        message = super()._accept(form)
        with self._gate:
            self.accepted_at.append(time.monotonic())
        return message


def _peak_per_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


def drain(redis_url: str, texts: int, rate: float, workers: int, work: Path, tag: str) -> dict[str, Any]:
    """Queue `texts` texts, start `workers` burst workers, wait until every text is sent or given up."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    fake = RateLimitedTwilio(rate).start()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": fake.base_url,
        "TWILIO_FROM_NUMBER": "+13865550100",
        "HASH_SECRET": "bench-outbound",
        "INSTANCE_DIR": str(work / "instance"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("HELPLINE_DEV", None)
    queue = text_queue(client)
    bodies = {f"bench {tag} text {i}" for i in range(texts)}
    for i in range(texts):
        enqueue_text(queue, send_id=f"bench-{tag}-{i}", to=f"+1999555{i:04d}", body=f"bench {tag} text {i}")
    started = time.monotonic()
    procs = [
        subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--burst"], cwd=PROJECT_ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=(work / f"worker-{tag}-{n}.log").open("wb"))
        for n in range(workers)
    ]
    try:
        for proc in procs:
            proc.wait(timeout=600)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        fake.stop()
        client.flushdb()
    seconds = time.monotonic() - started
    sent = [str(m["body"]) for m in fake.messages]
    times = fake.accepted_at
    span = (max(times) - min(times)) if len(times) > 1 else seconds
    return {
        "workers": workers,
        "texts": texts,
        "seconds": seconds,
        "messages_per_second": len(sent) / span if span > 0 else 0.0,
        "peak_per_second": _peak_per_second(times),
        "refused_429": fake.refused,
        "lost": len(bodies - set(sent)),
        "duplicates": len(sent) - len(set(sent)),
        "accepted": len(sent),
    }


def run(redis_url: str, texts: int, rate: float, work: Path) -> dict[str, Any]:
    """Drain the same number of texts with 1, 2 and 4 workers."""
    runs = []
    for workers in (1, 2, 4):
        print(f"outbound: {texts} texts, {workers} worker(s), fake Twilio limited to {rate:g}/s ...", flush=True)
        runs.append(drain(redis_url, texts, rate, workers, work, f"w{workers}"))
    return {"texts": texts, "rate_limit": rate, "runs": runs}
