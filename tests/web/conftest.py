"""Fixtures for the web tests: the app over the shared Redis and database, its test client, and a phone and a
caller who use it as Twilio would (signed webhooks: tests/twilio_webhooks.py)."""

from __future__ import annotations

import itertools

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.config import Settings, load_settings
from bot.web import create_app
from tests.places import shared_places
from tests.twilio_webhooks import Call, Phone

_sids = itertools.count(1)


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    """The settings a deployed helpline would read, pointed at the test services."""
    return load_settings(env)


@pytest.fixture
def app(settings: Settings, redis_client: redis.Redis) -> Flask:
    """The helpline app, built as `wsgi.py` builds it."""
    return create_app(settings, redis_client, places=shared_places())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask's test client of the app."""
    return app.test_client()


@pytest.fixture
def phone(client: FlaskClient) -> Phone:
    """A person texting the helpline, with a number of their own."""
    return Phone(client, f"+1386555{next(_sids):04d}")


@pytest.fixture
def call(client: FlaskClient) -> Call:
    """A person calling the helpline, from a number of their own."""
    return Call(client, f"+1386555{next(_sids):04d}")
