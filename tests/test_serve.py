"""The newcomer's path: `helpline serve` on embedded defaults answers a text about Volusia, and a call."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from tests.servers import free_port, stop_group


@pytest.mark.slow
def test_serve_on_embedded_defaults_answers_volusia(tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "TWILIO_AUTH_TOKEN", "HASH_SECRET"}
    }
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), HELPLINE_DEV="1", PORT=str(port), WEB_CONCURRENCY="1")
    helpline = Path(sys.executable).with_name("helpline")
    proc = subprocess.Popen(
        [str(helpline), "serve"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body = urllib.parse.urlencode({"From": "+13865550123", "Body": "volusia"}).encode()
        deadline = time.monotonic() + 60
        reply = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sms", data=body, timeout=5) as response:
                    reply = response.read().decode()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.3)
        assert "Volusia Recovery Alliance" in reply, proc.stdout.read().decode() if proc.poll() is not None else reply
        assert "(386) 777-PEER" in reply
        assert "(800) 539-4228" in reply and "1-800-662-HELP (4357)" in reply
        assert (tmp_path / "instance" / "helpline.sqlite3").exists()
        call = urllib.parse.urlencode({"CallSid": "CA" + "9" * 32, "From": "+13865550123"}).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/voice", data=call, timeout=5) as response:
            answer = response.read().decode()
        assert "<Gather" in answer and "8 0 0, 5 3 9, 4 2 2 8" in answer
    finally:
        stop_group(proc)
    assert proc.returncode is not None
    assert proc.stdout is not None
    assert "background worker started" in proc.stdout.read().decode()  # texts callers ask for get sent


@pytest.mark.slow
def test_serve_starts_and_answers_while_the_database_is_away(tmp_path: Path) -> None:
    """`helpline serve` with a database that refuses: it still starts, and a text gets the hotlines."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "TWILIO_AUTH_TOKEN", "HASH_SECRET"}}
    env.update(
        INSTANCE_DIR=str(tmp_path / "instance"), HELPLINE_DEV="1", PORT=str(port), WEB_CONCURRENCY="1",
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere",
    )
    helpline = Path(sys.executable).with_name("helpline")
    proc = subprocess.Popen([str(helpline), "serve"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        body = urllib.parse.urlencode({"From": "+13865550124", "Body": "hi"}).encode()
        deadline = time.monotonic() + 60
        reply = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sms", data=body, timeout=10) as response:
                    reply = response.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert "(800) 539-4228" in reply and "1-800-662-HELP (4357)" in reply, reply
    finally:
        stop_group(proc)
