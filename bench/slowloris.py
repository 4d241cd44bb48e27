"""Slow clients: the helpline as the Procfile runs it, while N connections each send one byte a second.

`python -m bench.slowloris [--connections 50] [--seconds 40] [--command "gunicorn ..."]` starts the Procfile's
`web:` command (or `--command`, to compare another configuration) on 127.0.0.1 with SQLite and an embedded
Redis, opens the slow connections (each sends a request line and then one header byte a second, never
finishing), and meanwhile texts the helpline twice a second as Twilio would, each with a 10 s timeout. It
prints how many of those texts were answered with the hotlines, their latencies, and how many workers
gunicorn killed. Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shlex
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from twilio.request_validator import RequestValidator

from bench.http import PUBLIC_BASE_URL, TOKEN, free_port, start_server, wait_ready
from bot.config import PROJECT_ROOT

SAMHSA = "1-800-662-HELP"


def prepare(instance: Path) -> dict[str, str]:
    """The environment of a deployed helpline on a fresh SQLite database and an embedded Redis."""
    import os

    from bot.storage.db import init_database, make_engine
    from bot.storage.redis_server import EmbeddedRedis

    database = f"sqlite:///{instance / 'helpline.sqlite3'}"
    engine = make_engine(database)
    init_database(engine, PROJECT_ROOT / "data")
    engine.dispose()
    redis = EmbeddedRedis(instance / "redis")
    env = dict(os.environ)
    env.update(
        INSTANCE_DIR=str(instance), DATABASE_URL=database, REDIS_URL=redis.url, TWILIO_AUTH_TOKEN=TOKEN,
        HASH_SECRET="bench-hash-secret", PUBLIC_BASE_URL=PUBLIC_BASE_URL, LOG_LEVEL="WARNING",
        RATE_LIMIT_COUNT="0",
    )
    prepare.keep = redis  # type: ignore[attr-defined]  # the server lives as long as this process
    return env


def slow_client(port: int, stop: threading.Event, opened: list[int]) -> None:
    """One connection that sends a header a byte a second until `stop` (or the server closes it)."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        opened.append(1)
        while not stop.wait(1.0):
            sock.sendall(b"a")
    except OSError:
        return


def text_once(port: int, number: int, validator: RequestValidator) -> tuple[bool, float]:
    params = {"From": f"+1386555{number % 10000:04d}", "To": "+13865550100", "Body": "volusia",
              "MessageSid": f"SM{number:032d}", "AccountSid": "AC" + "0" * 32}
    body = urllib.parse.urlencode(params)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": validator.compute_signature(f"{PUBLIC_BASE_URL}/sms", params)}
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/sms", body, headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        conn.close()
        return response.status == 200 and SAMHSA in text, time.monotonic() - start
    except OSError:
        return False, time.monotonic() - start


def run(connections: int, seconds: int, command: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        env = prepare(instance)
        logs = instance / "logs"
        logs.mkdir()
        if command:
            port = free_port()
            argv = [sys.executable, "-m", *shlex.split(command.replace("{port}", str(port)))]
            import subprocess

            from bench.http import Server

            log = logs / "helpline.log"
            process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=log.open("wb"),
                                       stderr=subprocess.STDOUT)
            server = Server("helpline", port, process, log, argv)
        else:
            server = start_server("helpline", env, "wsgi:app", logs)
        try:
            wait_ready(server, 1, None, timeout=120)
            validator = RequestValidator(TOKEN)
            stop = threading.Event()
            opened: list[int] = []
            slow = [threading.Thread(target=slow_client, args=(server.port, stop, opened), daemon=True)
                    for _ in range(connections)]
            for thread in slow:
                thread.start()
            time.sleep(2.0)
            results: list[tuple[bool, float]] = []
            started = time.monotonic()
            number = 0
            while time.monotonic() - started < seconds:
                number += 1
                results.append(text_once(server.port, number, validator))
                time.sleep(max(0.0, 0.5 - results[-1][1]))
            stop.set()
            for thread in slow:
                thread.join(5)
            killed = server.log.read_text(errors="replace").count("WORKER TIMEOUT")
        finally:
            server.stop()
    latencies = sorted(took for _, took in results)
    answered = sum(ok for ok, _ in results)
    return {
        "command": " ".join(server.argv[2:]) if not command else command,
        "slow_connections": len(opened),
        "seconds": seconds,
        "texts": len(results),
        "answered_with_hotlines": answered,
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_max_s": round(latencies[-1], 3) if latencies else None,
        "workers_killed": killed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.slowloris", description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--command", help='another server command, e.g. "gunicorn -w 2 -b 127.0.0.1:{port} wsgi:app"')
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= 500 or not 1 <= args.seconds <= 600:
        parser.error("at most 500 connections and 600 seconds")
    print(json.dumps(run(args.connections, args.seconds, args.command), indent=2))


if __name__ == "__main__":
    main()
