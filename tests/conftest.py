"""Fixtures and helpers that several layers share: a real Redis, a real database, the environment a deployed
helpline would have, a phone that texts it and a caller who calls it as Twilio would, and an autouse reset.

Redis is the server at `REDIS_URL` when set (its database is flushed between tests, so point it at a
spare database number), else an embedded real Redis started here. The database is SQLite in a temporary
folder, or PostgreSQL at `TEST_DATABASE_URL`. Each layer's own fixtures live in its folder's conftest
(tests/web: the app and its clients; tests/jobs: the fake Twilio REST API; tests/admin: the SQL directory;
tests/core: the engine's context from tests/factories.py, with no database at all). SQLAlchemy and the Redis
client are imported inside the fixtures that use them, so tests/core runs without loading either.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from twilio.request_validator import RequestValidator

from bot.config import PROJECT_ROOT

if TYPE_CHECKING:
    import redis
    from flask.testing import FlaskClient

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
HELPLINE_NUMBER = "+13865550100"
HOTLINE_TEXT = "(800) 539-4228"
SAMHSA_TEXT = "1-800-662-HELP (4357)"

# Read once, before any test runs: the reset below takes REDIS_URL out of the environment tests see.
EXTERNAL_REDIS_URL = os.environ.get("REDIS_URL") or None
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
SETTINGS_VARIABLES = frozenset(
    re.findall(r'env(?:\.get\(|, |\[)"([A-Z][A-Z0-9_]+)"', (PROJECT_ROOT / "bot" / "config.py").read_text())
)
"""Every environment variable `bot.config.load_settings` reads, found where it reads them."""

_HYPOTHESIS_HOME = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its examples and caches in a folder of the run's own, removed at the end, not in the
    checkout (it writes them while collecting, before any fixture could say where)."""
    config.stash[_HYPOTHESIS_HOME] = home = Path(tempfile.mkdtemp(prefix="helpline-hypothesis-"))
    set_hypothesis_home_dir(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run's Hypothesis folder."""
    home = config.stash.get(_HYPOTHESIS_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def reset_shared_state() -> Iterator[None]:
    """Each test starts from the same environment and leaves nothing behind for the next.

    The settings' variables are taken out of the environment (a developer's shell must not change what a
    test sees, and a child process a test starts inherits only what the test gives it), and the environment
    is put back as it was after the test. The jobs' opt-out store cache holds a database pool and a Redis
    client for one test's services: it is emptied. Caches of read-only data (the gazetteer, parsed phrases)
    stay: they cannot change an answer, and rebuilding them would cost seconds per test.
    """
    saved = dict(os.environ)
    for name in SETTINGS_VARIABLES & saved.keys():
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        jobs = sys.modules.get("bot.jobs")
        if jobs is not None:
            jobs._worker_opt_outs.cache_clear()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server for the whole run."""
    if EXTERNAL_REDIS_URL:
        yield EXTERNAL_REDIS_URL
        return
    from bot.storage.redis_server import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real database with the schema and the shipped data loaded once."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    fresh_database(url)
    return url


def fresh_database(url: str) -> None:
    """Empty a PostgreSQL database (SQLite files are new), then migrate it and load the shipped data."""
    from bot.storage.db import init_database, make_engine

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    init_database(engine, PROJECT_ROOT / "data")
    engine.dispose()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the test Redis, its database flushed before and after the test."""
    from bot.storage.redis_server import client_for

    client = client_for(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def make_env(tmp_path: Path, database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """The environment a deployed helpline would have, pointed at the test services."""
    env = {
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "HASH_SECRET": "test-hash-secret",
        "LOG_LEVEL": "INFO",
    }
    env.update(overrides)
    return env


@pytest.fixture
def env(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """`make_env` for this test's instance folder and the shared services."""
    return make_env(tmp_path, database_url, redis_url)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_group(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Stop a server started in its own session, and everything it spawned; kill it if it lingers."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def twilio_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The `X-Twilio-Signature` Twilio would send for a form POST to `url`."""
    return RequestValidator(token).compute_signature(url, params)


def sms_params(body: str, sender: str, to: str = HELPLINE_NUMBER) -> dict[str, str]:
    """The form fields Twilio posts for an inbound SMS."""
    sid = twilio_sid("SM")
    return {
        "ToCountry": "US",
        "ToState": "FL",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "DAYTONA BEACH",
        "FromZip": "32114",
        "SmsSid": sid,
        "FromState": "FL",
        "SmsStatus": "received",
        "FromCity": "DAYTONA BEACH",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "32114",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def message_text(xml: str) -> str:
    """The text of the single `<Message>` in a TwiML response (asserting there is exactly one)."""
    root = ElementTree.fromstring(xml)
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) == 1, xml
    return messages[0].text or ""


@dataclass
class Phone:
    """A person's phone texting the helpline through Twilio's webhook, signed as Twilio signs."""

    client: FlaskClient
    number: str
    base_url: str = "http://localhost"
    replies: list[str] = field(default_factory=list)

    def post(self, body: str, **extra: str) -> object:
        params = sms_params(body, self.number)
        params.update(extra)
        url = f"{self.base_url}/sms"
        return self.client.post("/sms", data=params, headers={"X-Twilio-Signature": sign(url, params)})

    def send(self, body: str) -> str:
        """Text `body`; return the reply text (asserting a 200 TwiML answer)."""
        response = self.post(body)
        assert response.status_code == 200, response.data
        assert response.mimetype == "application/xml"
        text = message_text(response.get_data(as_text=True))
        self.replies.append(text)
        return text

    def send_silent(self, body: str) -> None:
        """Text `body` and assert Twilio is told to send nothing back (`<Response/>`)."""
        response = self.post(body)
        assert response.status_code == 200, response.data
        root = ElementTree.fromstring(response.get_data(as_text=True))
        assert root.tag == "Response" and len(root) == 0, response.data


def assert_hotlines(text: str) -> None:
    """Every reply carries the 24/7 line and SAMHSA."""
    assert HOTLINE_TEXT in text, text
    assert SAMHSA_TEXT in text, text


def call_params(call_sid: str, caller: str, to: str = HELPLINE_NUMBER, status: str = "in-progress") -> dict[str, str]:
    """The form fields Twilio posts with every webhook of an inbound call."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "Direction": "inbound",
        "From": caller,
        "Caller": caller,
        "CallerCity": "DAYTONA BEACH",
        "CallerState": "FL",
        "CallerZip": "32114",
        "CallerCountry": "US",
        "FromCity": "DAYTONA BEACH",
        "FromState": "FL",
        "FromZip": "32114",
        "FromCountry": "US",
        "To": to,
        "Called": to,
        "CalledCity": "DAYTONA BEACH",
        "CalledState": "FL",
        "CalledZip": "32114",
        "CalledCountry": "US",
        "ToCity": "DAYTONA BEACH",
        "ToState": "FL",
        "ToZip": "32114",
        "ToCountry": "US",
    }


def twiml(xml: str) -> ElementTree.Element:
    """Parse a TwiML document, asserting it is one `<Response>`."""
    root = ElementTree.fromstring(xml)
    assert root.tag == "Response", xml
    return root


def spoken(root: ElementTree.Element) -> str:
    """Everything the caller hears in a TwiML response, in order."""
    return " ".join((say.text or "").strip() for say in root.iter("Say"))


@dataclass
class Call:
    """One phone call to the helpline, driven through Twilio's voice webhooks, signed as Twilio signs."""

    client: FlaskClient
    caller: str
    sid: str = field(default_factory=lambda: twilio_sid("CA"))
    base_url: str = "http://localhost"
    heard: list[str] = field(default_factory=list)
    gather_url: str = "/voice/gather"
    dial_url: str = "/voice/dial-status"

    def _follow(self, root: ElementTree.Element) -> None:
        """Remember the callback URLs the last TwiML gave, as Twilio would call them."""
        for gather in root.iter("Gather"):
            self.gather_url = gather.get("action") or self.gather_url
        for dial in root.iter("Dial"):
            self.dial_url = dial.get("action") or self.dial_url

    def post(self, path: str, status: str = "in-progress", **fields: str) -> ElementTree.Element:
        """POST a signed webhook; return the TwiML root (asserting a 200 XML answer)."""
        params = call_params(self.sid, self.caller, status=status)
        params.update(fields)
        url = f"{self.base_url}{path}"
        response = self.client.post(path, data=params, headers={"X-Twilio-Signature": sign(url, params)})
        assert response.status_code == 200, response.data
        assert response.mimetype == "application/xml"
        root = twiml(response.get_data(as_text=True))
        self.heard.append(spoken(root))
        self._follow(root)
        return root

    def start(self) -> ElementTree.Element:
        """The call comes in."""
        return self.post("/voice", status="ringing")

    def press(self, digits: str) -> ElementTree.Element:
        return self.post(self.gather_url, Digits=digits, msg="Gather End")

    def say(self, words: str, confidence: str = "0.91") -> ElementTree.Element:
        return self.post(self.gather_url, SpeechResult=words, Confidence=confidence)

    def silence(self) -> ElementTree.Element:
        """The Gather timed out: Twilio still calls the action (actionOnEmptyResult), with nothing heard."""
        return self.post(self.gather_url)

    def dial_ended(self, status: str, duration: str = "0") -> ElementTree.Element:
        return self.post(
            self.dial_url,
            DialCallStatus=status,
            DialCallSid=twilio_sid("CA"),
            DialCallDuration=duration,
            DialBridged="false",
        )

    def hang_up(self) -> int:
        """Twilio's status callback for the ended call; returns the HTTP status."""
        params = call_params(self.sid, self.caller, status="completed")
        params.update(CallDuration="42", CallbackSource="call-progress-events", SequenceNumber="0")
        signature = sign(f"{self.base_url}/voice/status", params)
        return self.client.post("/voice/status", data=params, headers={"X-Twilio-Signature": signature}).status_code
