"""A caller asks for the list by text; real `helpline worker` processes send it through the fake Twilio API.

The worker runs as deployed (`helpline worker`, the Procfile's `worker:`) against the test's real Redis.
To kill one mid-job, the fake API holds the first request open; the worker and the work horse it forked
(rq puts the horse in a session of its own) both get SIGKILL, as in a crashed machine, and a new worker
is started.
Waiting is by polling for a state with a generous deadline, never by asserting how long something took.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
import redis
from flask.testing import FlaskClient

from bot.config import load_settings
from bot.jobs import text_queue
from bot.storage.outbox import PREFIX, Record
from bot.web import create_app
from tests.conftest import make_env
from tests.fake_twilio import FakeTwilio
from tests.places import shared_places
from tests.twilio_webhooks import Call

pytestmark = pytest.mark.slow
DEADLINE_SECONDS = 45.0


class Workers:
    """Starts `helpline worker` processes for one test and makes sure none outlives it."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        command = Path(sys.executable).with_name("helpline")
        argv = [str(command), "worker"] if command.exists() else [sys.executable, "-m", "bot.cli", "worker"]
        log = open(self.log_dir / f"worker-{len(self.running)}.log", "wb")  # closed with the process
        proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and the work horse it forked, as a crash would."""
        horses = children(proc.pid)
        assert horses, "the worker should be running a job in a forked work horse"
        os.killpg(proc.pid, signal.SIGKILL)
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
        for pid in horses:
            wait_gone(pid)

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.running:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def worker_env(tmp_path: Path, database_url: str, redis_url: str, fake_twilio: FakeTwilio) -> dict[str, str]:
    return {
        **os.environ,
        **make_env(
            tmp_path,
            database_url,
            redis_url,
            TWILIO_API_BASE_URL=fake_twilio.base_url,
            TWILIO_HTTP_TIMEOUT_SECONDS="2",
            TEXT_RETRY_DELAYS="0.2,0.5",
            JOB_HEARTBEAT_SECONDS="1",
        ),
    }


@pytest.fixture
def workers(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(worker_env, tmp_path)
    yield pool
    pool.stop_all()


@pytest.fixture
def caller(worker_env: dict[str, str], redis_client: redis.Redis) -> Call:
    client: FlaskClient = create_app(load_settings(worker_env), redis_client, places=shared_places()).test_client()
    return Call(client, "+13865550191")


def children(pid: int) -> list[int]:
    """Child processes of `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def wait_gone(pid: int) -> None:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        state = Path(f"/proc/{pid}/stat")
        if state.exists() and state.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return  # killed, waiting to be reaped by init
        time.sleep(0.05)


def ask_for_the_volusia_list_by_text(call: Call) -> None:
    call.start()
    call.press("1")
    call.press("32114")
    assert call_text(call.press("1")).startswith("I'm sending this list by text")


def call_text(root: Element) -> str:
    return " ".join((s.text or "") for s in root.iter("Say"))


def wait_for(what: str, check: Callable[[], bool], workers: Workers) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}; worker logs:\n{workers.logs()}")


def outbox_state(client: redis.Redis) -> str:
    keys = [k for k in client.keys(f"{PREFIX}*") if not k.endswith(b":lock")]
    if len(keys) != 1:
        return f"{len(keys)} records"
    raw = client.get(keys[0])
    return Record(**json.loads(raw)).state if raw else "missing"


def assert_one_volusia_text(fake: FakeTwilio, caller: Call) -> None:
    assert len(fake.messages) == 1, fake.messages
    message = fake.messages[0]
    assert message["to"] == caller.caller
    assert message["from"] == "+13865550100"  # no TWILIO_FROM_NUMBER: the number the caller dialled
    body = str(message["body"])
    assert body.startswith("The list from your call to the SMA Healthcare Peer Support Line:\n")
    assert "Local peer support in Volusia County, FL:" in body
    assert "- Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)" in body
    assert body.endswith(
        "SMA Healthcare 24/7 line: (800) 539-4228\nSAMHSA National Helpline: 1-800-662-HELP (4357)\n"
        "In crisis? Call or text 988. Emergency: 911"
    )


def test_the_list_arrives_once_through_a_real_worker(caller, workers, fake_twilio, redis_client) -> None:
    workers.start()
    ask_for_the_volusia_list_by_text(caller)
    wait_for("the text to be sent", lambda: outbox_state(redis_client) == "sent", workers)
    wait_for("the job to finish", lambda: text_queue(redis_client).finished_job_registry.count == 1, workers)
    assert_one_volusia_text(fake_twilio, caller)
    assert len(fake_twilio.posts()) == 1
    caller.press("1")  # asking again in the same call
    assert len(fake_twilio.posts()) == 1 and text_queue(redis_client).count == 0
    assert caller.caller[2:] not in workers.logs()


@pytest.mark.parametrize(
    ("stall", "posts"),
    [
        ("accept-stall", 1),  # Twilio took the message, the worker died before hearing so: not sent again
        ("stall", 2),  # the worker died before Twilio took it: sent by the restarted worker
    ],
)
def test_the_list_arrives_once_when_the_worker_is_killed_mid_job_and_restarted(
    caller, workers, fake_twilio, redis_client, stall: str, posts: int
) -> None:
    fake_twilio.plan(stall)
    first = workers.start()
    ask_for_the_volusia_list_by_text(caller)
    wait_for("the worker to reach Twilio", fake_twilio.stalled.is_set, workers)
    workers.kill(first)
    fake_twilio.release()
    assert outbox_state(redis_client) == "sending"
    workers.start()
    wait_for("the restarted worker to finish the text", lambda: outbox_state(redis_client) == "sent", workers)
    assert_one_volusia_text(fake_twilio, caller)
    assert len(fake_twilio.posts()) == posts
    assert len(fake_twilio.lists()) >= 1  # the restarted job looked before it sent
    assert caller.caller[2:] not in workers.logs()


def test_a_spanish_caller_gets_the_list_in_spanish_through_a_real_worker(
    caller, workers, fake_twilio, redis_client
) -> None:
    workers.start()
    caller.start()
    caller.press("8")  # continue in Spanish
    caller.press("1")
    caller.press("32114")
    assert call_text(caller.press("1")).startswith("Le estoy mandando esta lista por mensaje de texto")
    wait_for("the text to be sent", lambda: outbox_state(redis_client) == "sent", workers)
    assert len(fake_twilio.messages) == 1
    body = str(fake_twilio.messages[0]["body"])
    assert body.startswith("La lista de su llamada a la SMA Healthcare Peer Support Line:\nApoyo entre pares en")
    assert "- Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)" in body
    assert body.endswith(
        "SMA Healthcare 24 horas: (800) 539-4228\nSAMHSA (en español): 1-800-662-HELP (4357)\n"
        "¿En crisis? 988: llame y marque 2, o mande AYUDA. Emergencias: 911"
    )
