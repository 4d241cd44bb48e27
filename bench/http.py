"""The HTTP benchmark: the helpline under gunicorn as the Procfile runs it, beside a bare and a floor endpoint,
driven by wrk.

All servers are started with the Procfile's `web:` command (same worker count and worker class; only the bind
address becomes 127.0.0.1 on a free port, and the others serve `bench.bare:app` and `bench.floor:app`). wrk
replays validly signed, realistic traffic at full speed and then at a fixed rate; every reply is checked for a
TwiML <Message> with the SAMHSA line. Peak memory per worker is read from /proc (VmHWM, the high-water mark of
resident memory, and PSS).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.config import PROJECT_ROOT

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "sms.lua"
PUBLIC_BASE_URL = "https://bench.helpline.invalid"
TOKEN = "bench-auth-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def procfile_web_command(env: dict[str, str], port: int, app: str = "wsgi:app") -> list[str]:
    """The Procfile's `web:` line with its ${VAR:-default}s filled in, bound to 127.0.0.1:port, serving `app`."""
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    line = next(text for text in lines if text.startswith("web:"))
    command = line.split(":", 1)[1].strip()
    filled = re.sub(
        r"\$\{(\w+):-([^}]*)\}|\$(\w+)",
        lambda m: env.get(m.group(1) or m.group(3), m.group(2) or ""),
        command,
    )
    argv = shlex.split(filled)
    out: list[str] = []
    for arg in argv:
        if re.fullmatch(r"[\d.]+:\d+", arg):
            arg = f"127.0.0.1:{port}"  # house rule: servers started here listen on loopback only
        elif arg == "wsgi:app":
            arg = app
        out.append(arg)
    if out[0] == "gunicorn":
        out = [sys.executable, "-m", "gunicorn", *out[1:]]
    return out


@dataclass
class Server:
    """A gunicorn master we started, its log, and its port."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    argv: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """PIDs of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def memory(self) -> list[dict[str, float]]:
        """Per worker: peak and current resident memory and proportional share, in MB."""
        found = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            pairs = (text.split(":", 1) for text in status.splitlines())
            values = {k: float(v.split()[0]) / 1024 for k, v in pairs if k in ("VmHWM", "VmRSS")}
            pss = 0.0
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        pss = float(line.split()[1]) / 1024
            except OSError:
                pass
            found.append({"pid": pid, "peak_rss_mb": values.get("VmHWM", 0.0), "rss_mb": values.get("VmRSS", 0.0),
                          "pss_mb": pss})
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(name: str, env: dict[str, str], app: str, logs: Path) -> Server:
    port = free_port()
    argv = procfile_web_command(env, port, app)
    log = logs / f"{name}.log"
    handle = log.open("wb")
    process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    return Server(name, port, process, log, argv)


def wait_ready(server: Server, workers: int, marker: str | None, timeout: float = 180.0) -> None:
    """Until /healthz answers and (for the helpline) every worker has logged its directory load."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited; see {server.log}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                healthy = response.status == 200
        except OSError:
            healthy = False
        loaded = marker is None or server.log.read_text(errors="replace").count(marker) >= workers
        if healthy and loaded and len(server.workers()) >= workers:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f} s; see {server.log}")


def ensure_wrk() -> str:
    """wrk from Debian's package, installed if missing (the bench is run as root on the dev machine)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing Debian's wrk package", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("could not install wrk")
    return found


def run_wrk(wrk: str, server: Server, requests: Path, out: Path, seconds: int, connections: int, rate: float = 0,
            threads: int = 1) -> dict[str, object]:
    """One wrk run against `server`; its JSON summary."""
    env = dict(os.environ, REQUESTS_FILE=str(requests), OUT_FILE=str(out), RATE=str(rate), WRK_THREADS=str(threads))
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(WRK_SCRIPT),
            server.url]
    started = time.time()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    result: dict[str, object] = json.loads(out.read_text())
    first_request = float(result.get("first_request_at_ms") or 0) / 1000  # type: ignore[arg-type]
    result.update(server=server.name, target_rps=rate, connections=connections, seconds_asked=seconds,
                  started_at=max(started, first_request), ended_at=time.time())
    return result


ANSWER_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \[(\d+)\] INFO bot\.helpline: ")


def longest_pause(log: Path, started_at: float, ended_at: float) -> dict[str, object] | None:
    """The longest any one worker went without answering a text during a run, from the helpline's log lines
    (one per text, with the worker's pid): a high p99 with a long pause is a worker held up, not the load tool."""
    last: dict[str, float] = {}
    gap, pid_of_gap, gap_from = 0.0, "", 0.0
    with log.open(errors="replace") as lines:
        for line in lines:
            found = ANSWER_LINE.match(line)
            if found is None:
                continue
            at = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if not started_at <= at <= ended_at:
                continue
            pid = found.group(2)
            if pid in last and at - last[pid] > gap:
                gap, pid_of_gap, gap_from = at - last[pid], pid, last[pid]
            last[pid] = at
    if not pid_of_gap:
        return None
    return {"ms": round(gap * 1000, 1), "pid": int(pid_of_gap), "after_s": round(gap_from - started_at, 1)}


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
