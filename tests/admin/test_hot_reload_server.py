"""Hot reload under a real server: gunicorn with two workers, real Redis, a flow file edited mid-conversation.

Once validly (the new text is served and the conversation carries on) and once with an error (refused,
logged with file and line, and the last good version keeps answering). Every request must get 200 and a
TwiML `<Message>` with the hotlines, before, during and after.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from tests.conftest import make_env
from tests.servers import free_port, stop_group
from tests.twilio_webhooks import assert_hotlines, message_text, sign, sms_params

pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 30.0
WELCOME = "Hi, this is the {program}."



class Server:
    """`gunicorn -w 2 wsgi:app` on a free local port, as the Procfile runs it, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
                "--no-control-socket",
                "--chdir",
                str(PROJECT_ROOT),
                "wsgi:app",
            ],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.statuses: list[int] = []

    def wait_ready(self) -> None:
        end = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=10) as r:
                    if r.status == 200:
                        return
            except OSError:  # refused while binding, or timed out while the workers boot
                time.sleep(0.1)
        raise AssertionError("server did not start:\n" + self.log.read_text())

    def text(self, sender: str, body: str) -> str:
        """Post a signed SMS webhook; every answer must be 200 TwiML with the hotlines."""
        params = sms_params(body, sender)
        request = urllib.request.Request(
            f"{self.base}/sms",
            data=urllib.parse.urlencode(params).encode(),
            headers={"X-Twilio-Signature": sign(f"{self.base}/sms", params)},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            self.statuses.append(response.status)
            assert response.status == 200
            reply = message_text(response.read().decode())
        assert_hotlines(reply)
        return reply

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log_file.close()


def until(condition, probe, what: str) -> None:  # type: ignore[no-untyped-def]
    """Probe (one request) until the condition holds, within the deadline."""
    end = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < end:
        probe()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_flow_edited_under_a_running_server(tmp_path: Path, database_url: str, redis_url: str, redis_client) -> None:  # type: ignore[no-untyped-def]
    flows, data = tmp_path / "flows", tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    shutil.copytree(PROJECT_ROOT / "data", data)
    main = flows / "main.yaml"
    env = make_env(
        tmp_path,
        database_url,
        redis_url,
        FLOWS_DIR=str(flows),
        DATA_DIR=str(data),
        RELOAD_CHECK_SECONDS="0.2",
        RATE_LIMIT_COUNT="100000",
    )  # the probe texts far faster than any person
    env["PATH"] = str(Path(sys.executable).parent) + ":/usr/bin:/bin"
    server = Server(env, tmp_path / "server.log")
    try:
        server.wait_ready()
        person, prober = "+13865550401", "+13865550402"
        assert "1 Local peer support" in server.text(person, "hi")
        assert "COUNTY" in server.text(person, "1")

        # A valid edit, while the person is at the county question.
        main.write_text(main.read_text().replace(WELCOME, "Hi (v2), this is the {program}."))
        seen: list[str] = []
        probe = lambda: seen.append(server.text(prober, "menu"))  # noqa: E731
        until(lambda: len(seen) >= 6 and all("Hi (v2)" in r for r in seen[-6:]), probe, "both workers to serve v2")
        assert all(r.startswith(("Hi, this is", "Hi (v2), this is")) for r in seen)
        # The conversation in progress carries on where it was.
        assert "Volusia Recovery Alliance" in server.text(person, "volusia")

        # A broken edit: an option pointing at a state that does not exist, and a new welcome text.
        broken = (
            main.read_text().replace("Hi (v2)", "Hi (v3)").replace("        goto: programs", "        goto: progams")
        )
        main.write_text(broken)
        until(lambda: server.log.read_text().count("rejected") >= 2, probe, "both workers to refuse the broken file")
        log = server.log.read_text()
        lines = broken.splitlines()
        goto = next(i for i, t in enumerate(lines, 1) if "goto: progams" in t)
        line = max(i for i, t in enumerate(lines[:goto], 1) if "- key:" in t)  # the option's first line
        assert f"{main}:{line}: state 'welcome' goes to 'progams', which is not defined" in log
        for _ in range(6):
            assert "Hi (v2), this is" in server.text(prober, "menu")
        assert "Recovery programs" in server.text(person, "menu") + server.text(person, "3")
        assert set(server.statuses) == {200}
    finally:
        server.stop()


def test_sighup_to_helpline_serve_publishes_an_edit(tmp_path: Path) -> None:
    """With watching off, an edit waits; SIGHUP to `helpline serve` checks it and every worker takes it."""
    import os
    import signal

    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "TWILIO_AUTH_TOKEN", "HASH_SECRET"}
    }
    env.update(
        INSTANCE_DIR=str(tmp_path / "instance"),
        HELPLINE_DEV="1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        FLOWS_DIR=str(flows),
        RELOAD_WATCH_FILES="0",
        RELOAD_CHECK_SECONDS="0.2",
        RATE_LIMIT_COUNT="100000",
    )
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("helpline")), "serve"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def text(body: str) -> str:
        fields = sms_params(body, "+13865550411")  # a new MessageSid each time: not a re-delivery
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sms", data=data, timeout=10) as response:
            assert response.status == 200
            return message_text(response.read().decode())

    try:
        end = time.monotonic() + 60
        while True:
            try:
                text("menu")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < end, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
        main = flows / "main.yaml"
        main.write_text(main.read_text().replace("Recovery programs. Reply", "Recovery programs, v2. Reply"))
        for _ in range(5):
            assert "Recovery programs. Reply" in text("menu") + text("3")
        os.kill(proc.pid, signal.SIGHUP)
        seen: list[str] = []
        until(
            lambda: len(seen) >= 8 and all("v2" in r for r in seen[-4:]),
            lambda: seen.append(text("menu") + text("3")),
            "v2",
        )
        # The summary is written after the version is bumped: workers can answer with v2 a moment before it.
        deadline = time.monotonic() + 10
        while "published reload #1" not in (tmp_path / "serve.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "published reload #1" in (tmp_path / "serve.log").read_text()
    finally:
        stop_group(proc)
        log.close()
