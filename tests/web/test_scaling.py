"""Horizontal scaling: two web processes and two workers on one Redis and one database.

Nothing a conversation depends on lives in a process: sessions, call state, "once per delivery", rate limits,
opt-outs and the job queue are in Redis or the database, and each process's directory index is a cache of the
same rows. So a conversation that hops between processes (as it does behind any load balancer) reads exactly as
if it had one, and a text a caller asks for is sent once, by whichever worker takes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree

import pytest

from bot.config import PROJECT_ROOT
from tests.conftest import make_env
from tests.fake_twilio import FakeTwilio
from tests.servers import free_port
from tests.twilio_webhooks import ACCOUNT_SID, AUTH_TOKEN, assert_hotlines, call_params, sign, sms_params

pytestmark = pytest.mark.slow



@contextmanager
def web_process(env: dict[str, str], log: Path) -> Iterator[str]:
    """The helpline under gunicorn (one worker), as the Procfile runs it, on a free loopback port."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=2).close()
                    break
                except (urllib.error.URLError, OSError):
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


class HoppingCall:
    """One call whose webhooks go to whichever process; it follows each Gather's action URL as Twilio does."""

    def __init__(self, sid: str, caller: str) -> None:
        self.sid, self.caller, self.gather_url = sid, caller, "/voice/gather"

    def post(self, server: str, path: str, **fields: str) -> str:
        """Post a signed voice webhook to one process; what the caller hears."""
        params = {**call_params(self.sid, self.caller), **fields}
        request = urllib.request.Request(
            f"{server}{path}",
            data=urllib.parse.urlencode(params).encode(),
            headers={"X-Twilio-Signature": sign(f"https://helpline.example.org{path}", params),
                     "Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            root = ElementTree.fromstring(response.read())
        for gather in root.iter("Gather"):
            self.gather_url = gather.get("action") or self.gather_url
        return " ".join((say.text or "") for say in root.iter("Say"))

    def press(self, server: str, digits: str) -> str:
        return self.post(server, self.gather_url, Digits=digits, msg="Gather End")


def text(server: str, sender: str, body: str, **extra: str) -> str:
    """Post a signed inbound SMS to one process; the reply's text ('' when the answer is silence)."""
    params = {**sms_params(body, sender), **extra}
    public = "https://helpline.example.org/sms"
    request = urllib.request.Request(
        f"{server}/sms",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": sign(public, params), "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        root = ElementTree.fromstring(response.read())
    messages = root.findall("Message")
    return messages[0].text or "" if messages else ""


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeTwilio]:
    """Twilio's REST API, faked on loopback, for the texts the workers send."""
    server = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str, fake_api: FakeTwilio
) -> Iterator[tuple[str, str]]:
    """Two web processes and two `helpline worker` processes sharing the test Redis and database."""
    tmp_path = tmp_path_factory.mktemp("scaling")
    env = make_env(tmp_path, database_url, redis_url, PUBLIC_BASE_URL="https://helpline.example.org",
                   TWILIO_API_BASE_URL=fake_api.base_url)
    workers = [
        subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=PROJECT_ROOT, env={**os.environ, **env},
                         stdout=subprocess.DEVNULL, stderr=(tmp_path / f"worker-{n}.log").open("wb"))
        for n in range(2)
    ]
    try:
        with web_process(env, tmp_path / "a.log") as a, web_process(env, tmp_path / "b.log") as b:
            yield a, b
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)


def test_a_conversation_hopping_between_processes_stays_coherent(two_processes: tuple[str, str], redis_client) -> None:
    a, b = two_processes
    me = "+13865550190"
    assert "1 Local peer support" in text(a, me, "hi")
    assert "COUNTY" in text(b, me, "2"), "process B knows A put me in the menu"
    family = text(a, me, "volusa")
    assert "Support for family and loved ones in Volusia County, FL" in family, "the topic chosen on B is kept"
    assert "Volusia Recovery Alliance" in family
    assert "COUNTY" in text(b, me, "back")
    by_zip = text(a, me, "32114")
    assert "Also within 25 miles of 32114" in by_zip
    assert "1 Local peer support" in text(b, me, "menu")
    question = text(a, me, "st jon")
    assert "Did you mean St. Johns County, FL?" in question
    assert "Discover & Recover St. Johns County" in text(b, me, "yes"), "B answers the question A asked"


def test_a_delivery_retried_on_the_other_process_is_answered_once(two_processes: tuple[str, str]) -> None:
    a, b = two_processes
    me = "+13865550191"
    text(a, me, "menu")
    text(b, me, "3")
    text(a, me, "1")
    retry = {"MessageSid": "SM" + "d" * 32, "SmsSid": "SM" + "d" * 32, "SmsMessageSid": "SM" + "d" * 32}
    first = text(a, me, "back", **retry)
    assert "Recovery programs" in first
    assert text(b, me, "back", **retry) == first, "Twilio's retry, landing on B, gets A's answer"
    assert "treatment near you" in text(b, me, "4"), "and BACK was applied once: still in recovery programs"


def test_an_opt_out_on_one_process_is_honoured_by_the_other(two_processes: tuple[str, str]) -> None:
    a, b = two_processes
    me = "+13865550192"
    text(a, me, "hi")
    text(a, me, "STOP")
    assert text(b, me, "volusia") == "", "after STOP, silence from every process"
    reply = text(b, me, "START")
    assert_hotlines(reply)
    assert "Volusia Recovery Alliance" in text(a, me, "volusia")


def test_a_call_hopping_between_processes_gets_its_list_by_text_once(
    two_processes: tuple[str, str], fake_api: FakeTwilio
) -> None:
    a, b = two_processes
    caller = HoppingCall("CA" + "5" * 32, "+13865550193")
    caller.post(a, "/voice", CallStatus="ringing")
    caller.press(b, "1")
    heard = caller.press(a, "32114")
    assert "Volusia Recovery Alliance" in heard, "B's menu choice is known to A"
    assert caller.press(b, "1").startswith("I'm sending this list by text")
    caller.press(a, "1")  # asked again, on the other process
    deadline = time.monotonic() + 60
    while not fake_api.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)  # a second text, if either worker were to send one, would have arrived by now
    assert [m["to"] for m in fake_api.messages] == [caller.caller], "sent once, by one of the two workers"
    assert "Volusia Recovery Alliance" in str(fake_api.messages[0]["body"])
