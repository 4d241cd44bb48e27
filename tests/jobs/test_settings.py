"""The settings calls and jobs read: explicit defaults, and a clear refusal of a malformed value."""

from __future__ import annotations

import re

import pytest

from bot.config import PROJECT_ROOT, ConfigError, load_settings

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


def _readme_settings() -> dict[str, str]:
    """Each variable of README.md's settings table, with the default it states."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    rows: dict[str, str] = {}
    for line in text[text.index("| variable |"):text.index("## Layout")].splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        defaults = [d.strip() for d in re.findall(r"`([^`]*)`", cells[1])]
        for i, name in enumerate(names):
            rows[name] = defaults[i] if len(defaults) == len(names) else cells[1]
    return rows


def test_every_documented_setting_is_read_and_every_read_setting_is_documented() -> None:
    read = set(re.findall(r'env(?:\.get\(|, |\[)"([A-Z][A-Z0-9_]+)"', (PROJECT_ROOT / "bot/config.py").read_text()))
    assert set(_readme_settings()) == read


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("DEFAULT_LANGUAGE", "es", "default_language", "es"),
        ("RATE_LIMIT_COUNT", "3", "rate_limit_count", 3),
        ("RETENTION_DAYS", "2", "returning_ttl_seconds", 2 * 86400),
        ("ZIP_RADIUS_MILES", "40", "zip_radius_miles", 40),
        ("HOME_STATES", "ga,fl", "home_states", ("GA", "FL")),
    ],
)
def test_a_documented_setting_changes_what_it_says(name: str, value: str, attribute: str, expected: object) -> None:
    assert getattr(load_settings({**BASE, name: value}), attribute) == expected


def test_the_documented_defaults_are_the_defaults() -> None:
    s = load_settings(BASE)
    documented = _readme_settings()
    for name, attribute in [
        ("SESSION_TTL_SECONDS", "session_ttl_seconds"), ("RETURNING_TTL_SECONDS", "returning_ttl_seconds"),
        ("SMS_SEGMENT_BUDGET", "sms_segment_budget"), ("RATE_LIMIT_COUNT", "rate_limit_count"),
        ("REPLAY_TTL_SECONDS", "replay_ttl_seconds"), ("RETENTION_DAYS", "retention_days"),
        ("OPT_OUT_SYNC_SECONDS", "opt_out_sync_seconds"), ("DEFAULT_LANGUAGE", "default_language"),
        ("WEB_THREADS", "web_threads"), ("DIAL_TIMEOUT_SECONDS", "dial_timeout_seconds"),
        ("ZIP_RADIUS_MILES", "zip_radius_miles"), ("DATA_STALE_DAYS", "data_stale_days"),
    ]:
        value = getattr(s, attribute)
        assert (f"{value:g}" if isinstance(value, float) else str(value)) == documented[name], name
