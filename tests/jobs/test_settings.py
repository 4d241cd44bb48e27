"""The settings calls and jobs read: explicit defaults, and a clear refusal of a malformed value."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

BASE = {"HELPLINE_DEV": "1", "HASH_SECRET": "x", "INSTANCE_DIR": "/nonexistent"}


def test_defaults() -> None:
    s = load_settings(BASE)
    assert (s.voice_name, s.voice_language, s.dial_timeout_seconds) == ("Polly.Joanna", "en-US", 30)
    assert (s.twilio_http_timeout_seconds, s.text_retry_delays, s.job_heartbeat_seconds) == (
        10.0,
        (2.0, 10.0, 30.0),
        10,
    )
    assert not s.can_send_texts


def test_values_are_read() -> None:
    s = load_settings(
        {
            **BASE,
            "TEXT_RETRY_DELAYS": "1, 5,20",
            "JOB_HEARTBEAT_SECONDS": "3",
            "DIAL_TIMEOUT_SECONDS": "25",
            "TWILIO_ACCOUNT_SID": "AC1",
            "TWILIO_AUTH_TOKEN": "t",
        }
    )
    assert s.text_retry_delays == (1.0, 5.0, 20.0) and s.job_heartbeat_seconds == 3 and s.dial_timeout_seconds == 25
    assert s.can_send_texts


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TEXT_RETRY_DELAYS", "2,soon", "seconds separated by commas"),
        ("TEXT_RETRY_DELAYS", "2,-1", "between 0 and 600"),
        ("JOB_HEARTBEAT_SECONDS", "0", "between 1 and 300"),
        ("TWILIO_HTTP_TIMEOUT_SECONDS", "fast", "must be a number"),
        ("DIAL_TIMEOUT_SECONDS", "2", "between 5 and 600"),
    ],
)
def test_malformed_values_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({**BASE, name: value})
