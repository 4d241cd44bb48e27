"""A load run with a stalled database: every text answered in seconds with the hotlines, and consent kept.

`python -m bench.stall [--rate 100] [--before 5] [--stall 30] [--after 10] [--drop-copy]` runs the helpline as
the Procfile runs it (gunicorn, 127.0.0.1 only) on PostgreSQL reached through a TCP proxy and an embedded
Redis, texts it at a fixed rate as Twilio would, and stalls the proxy (it accepts connections and forwards
nothing) for `--stall` seconds in the middle. One text in ten is a STOP or START (each such number alternates
them), the rest are ordinary menu texts. `--drop-copy` also removes the opt-out copy's completeness marker when
the stall begins, so every text asks the hung database (the worst case). It prints, for the whole run and for
the stall: texts sent, answered (HTTP 200 TwiML), with the hotlines, slower than 10 s, lost (no answer), the
latency percentiles, and whether the database and Redis both hold each number's last consent word at the end.

PostgreSQL: `BENCH_STALL_DATABASE_URL`, default postgresql+psycopg://postgres@127.0.0.1:5432/helpline_stall.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from bench.http import PUBLIC_BASE_URL, TOKEN, start_server, wait_ready
from bench.setup import ensure_database
from bot.core.identity import person_key
from bot.storage.db import make_engine
from bot.storage.redis_server import EmbeddedRedis, client_for
from tests.conftest import fresh_database
from tests.faults.tcp_proxy import TcpProxy

SAMHSA = "1-800-662-HELP"
HASH_SECRET = "bench-hash-secret"
ORDINARY = ["hi", "1", "volusia", "flagler", "menu", "32114", "2", "I want to kill myself"]
SLOW_SECONDS = 10.0


@dataclass
class Sent:
    at: float
    number: str
    body: str
    latency: float | None = None
    status: int | None = None
    hotlines: bool = False
    empty: bool = False


def send(port: int, sent: Sent, sid: int, validator: RequestValidator) -> None:
    params = {"From": sent.number, "To": "+13865550100", "Body": sent.body, "MessageSid": f"SM{sid:032d}",
              "AccountSid": "AC" + "0" * 32}
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": validator.compute_signature(f"{PUBLIC_BASE_URL}/sms", params)}
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/sms", urllib.parse.urlencode(params), headers)
        response = conn.getresponse()
        body = response.read().decode(errors="replace")
        conn.close()
    except OSError:
        return
    sent.latency = time.monotonic() - start
    sent.status = response.status
    sent.hotlines = SAMHSA in body
    sent.empty = "<Message" not in body


def summary(texts: list[Sent]) -> dict[str, object]:
    answered = [t for t in texts if t.status == 200]
    latencies = sorted(t.latency for t in answered if t.latency is not None)

    def pct(p: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 3) if latencies else None

    return {
        "texts": len(texts),
        "answered_200": len(answered),
        "with_hotlines": sum(t.hotlines for t in answered),
        "empty_replies": sum(t.empty for t in answered),
        "slower_than_10s": sum(1 for x in latencies if x >= SLOW_SECONDS),
        "lost": len(texts) - len(answered),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p99_s": pct(0.99),
        "latency_max_s": round(latencies[-1], 3) if latencies else None,
    }


def run(rate: float, before: float, stall: float, after: float, drop_copy: bool) -> dict[str, object]:
    url = os.environ.get("BENCH_STALL_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/helpline_stall")
    ensure_database(url)
    fresh_database(url)
    parsed = make_url(url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    through = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        redis = EmbeddedRedis(instance / "redis")
        env = dict(os.environ)
        env.update(INSTANCE_DIR=str(instance), DATABASE_URL=through, REDIS_URL=redis.url, TWILIO_AUTH_TOKEN=TOKEN,
                   HASH_SECRET=HASH_SECRET, PUBLIC_BASE_URL=PUBLIC_BASE_URL, LOG_LEVEL="WARNING",
                   RATE_LIMIT_COUNT="0")
        (instance / "logs").mkdir()
        server = start_server("helpline", env, "wsgi:app", instance / "logs")
        validator = RequestValidator(TOKEN)
        try:
            wait_ready(server, 2, None, timeout=120)
            texts: list[Sent] = []
            last_word: dict[str, str] = {}
            pool = ThreadPoolExecutor(max_workers=400)
            total = before + stall + after
            start = time.monotonic()
            stalled_at = restored_at = None
            i = 0
            while (now := time.monotonic() - start) < total:
                if stalled_at is None and now >= before:
                    proxy.stall()
                    stalled_at = now
                    if drop_copy:
                        client_for(redis.url).delete("hl:optouts-complete")
                if restored_at is None and now >= before + stall:
                    proxy.restore()
                    restored_at = now
                if i % 10 == 0:
                    number = f"+1386556{(i // 10) % 200:04d}"
                    word = "START" if last_word.get(number) == "STOP" else "STOP"
                    last_word[number] = word
                    sent = Sent(now, number, word)
                else:
                    sent = Sent(now, f"+1386557{i % 2000:04d}", ORDINARY[i % len(ORDINARY)])
                texts.append(sent)
                pool.submit(send, server.port, sent, i, validator)
                i += 1
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
            if restored_at is None:
                proxy.restore()
            pool.shutdown(wait=True)
            time.sleep(5)  # the bound within which the stores agree again (docs/operations.md)
            kept = consent_kept(url, redis.url, last_word)
        finally:
            server.stop()
            redis.stop()
            proxy.cut()
    assert stalled_at is not None
    during = [t for t in texts if stalled_at <= t.at < stalled_at + stall]
    consent = [t for t in texts if t.body in ("STOP", "START")]
    return {
        "rate_per_s": rate, "stall_s": stall, "drop_copy": drop_copy,
        "all": summary(texts), "during_stall": summary(during), "consent_texts": summary(consent),
        "consent_kept": kept,
    }


def consent_kept(url: str, redis_url: str, last_word: dict[str, str]) -> dict[str, int]:
    """How many numbers' last word both stores hold (read directly, not through the proxy)."""
    engine = make_engine(url)
    client = client_for(redis_url)
    database = copy = 0
    with engine.connect() as conn:
        for number, word in last_word.items():
            person = person_key(HASH_SECRET, number)
            row = conn.execute(text("SELECT opted_out FROM consent WHERE person = :p"), {"p": person}).first()
            database += bool(row is not None and bool(row[0]) == (word == "STOP"))
            entry = client.get(f"hl:optout:{person}")
            opted_out = isinstance(entry, bytes) and entry.startswith(b"1")
            copy += opted_out == (word == "STOP")
    engine.dispose()
    return {"numbers": len(last_word), "database_holds_last_word": database, "redis_holds_last_word": copy}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stall", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--before", type=float, default=5.0)
    parser.add_argument("--stall", type=float, default=30.0)
    parser.add_argument("--after", type=float, default=10.0)
    parser.add_argument("--drop-copy", action="store_true")
    args = parser.parse_args(argv)
    if not 0 < args.rate <= 500 or args.before + args.stall + args.after > 600:
        parser.error("at most 500 texts/s and 600 s")
    print(json.dumps(run(args.rate, args.before, args.stall, args.after, args.drop_copy), indent=2))


if __name__ == "__main__":
    main()
