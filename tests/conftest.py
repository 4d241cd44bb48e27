"""Shared fixtures: a real Redis, a real database, the app, a phone that texts it and a caller who calls it
as Twilio would, and a local fake of Twilio's REST API for the texts we send.

Redis is the server at `REDIS_URL` when set (its database is flushed between tests, so point it at a
spare database number), else an embedded real Redis started here. The database is SQLite in a temporary
folder, or PostgreSQL at `TEST_DATABASE_URL`.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from bot.config import PROJECT_ROOT, Settings, load_settings
from bot.storage.db import init_database, make_engine
from bot.storage.redis_server import EmbeddedRedis, client_for
from bot.web import create_app
from tests.fake_twilio import FakeTwilio
from tests.places import shared_places

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
HELPLINE_NUMBER = "+13865550100"
HOTLINE_TEXT = "(800) 539-4228"
SAMHSA_TEXT = "1-800-662-HELP (4357)"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server for the whole run."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real database with the schema and the shipped data loaded once."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    fresh_database(url)
    return url


def fresh_database(url: str) -> None:
    """Empty a PostgreSQL database (SQLite files are new), then migrate it and load the shipped data."""
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
    return make_env(tmp_path, database_url, redis_url)


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def app(settings: Settings, redis_client: redis.Redis) -> Flask:
    return create_app(settings, redis_client, places=shared_places())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


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


_sids = itertools.count(1)


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


@pytest.fixture
def phone(client: FlaskClient) -> Phone:
    return Phone(client, f"+1386555{next(_sids):04d}")


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


@pytest.fixture
def call(client: FlaskClient) -> Call:
    return Call(client, f"+1386555{next(_sids):04d}")


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A local fake of Twilio's REST API, for the texts the helpline sends."""
    server = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def directory(database_url: str):  # type: ignore[no-untyped-def]
    """The real SQL directory over the shipped data."""
    from bot.storage.db import make_session_factory
    from bot.storage.listings import SqlDirectory

    return SqlDirectory(make_session_factory(make_engine(database_url)))


@pytest.fixture(scope="session")
def index(directory):  # type: ignore[no-untyped-def]
    """The in-memory directory index the running helpline uses, loaded from the real SQL directory."""
    from bot.core.directory_index import DirectoryIndex
    version, listings = directory.listings()
    return DirectoryIndex.build(listings, shared_places().centroids, version or "")


@pytest.fixture(scope="session")
def context(index):  # type: ignore[no-untyped-def]
    """The engine's context: the shipped main flow, the US gazetteer, the directory index (as wired)."""
    from bot.config import hotlines
    from bot.config import load_settings as _load
    from bot.core.engine import Context
    from bot.core.flows import load_flow
    from bot.core.safety import load_crisis

    settings = _load({"HELPLINE_DEV": "1", "HASH_SECRET": "x", "INSTANCE_DIR": "/nonexistent"})
    return Context(
        flow=load_flow(PROJECT_ROOT / "flows" / "main.yaml"),
        places=shared_places(),
        directory=index,
        hotlines=hotlines(settings),
        prefer_states=(("FL",), ("OH",)),
        sms_budget=4,
        crisis=load_crisis(PROJECT_ROOT / "flows" / "crisis.yaml"),
    )
