"""Fixtures for the job tests: a local fake of Twilio's REST API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_twilio import FakeTwilio
from tests.twilio_webhooks import ACCOUNT_SID, AUTH_TOKEN


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A local fake of Twilio's REST API, for the texts the helpline sends."""
    server = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    yield server
    server.stop()
