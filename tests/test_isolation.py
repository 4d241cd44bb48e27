"""The autouse reset in tests/conftest.py: no test sees the settings' variables of the shell that ran pytest,
and what one test puts in the environment is gone for the next (the two tests below run in file order)."""

from __future__ import annotations

import os

from tests.conftest import SETTINGS_VARIABLES


def test_the_reset_knows_the_settings_variables() -> None:
    assert {"DATABASE_URL", "REDIS_URL", "TWILIO_AUTH_TOKEN", "HASH_SECRET", "PORT"} <= SETTINGS_VARIABLES
    assert len(SETTINGS_VARIABLES) >= 50


def test_a_test_that_leaves_a_setting_behind() -> None:
    assert not SETTINGS_VARIABLES & os.environ.keys()
    os.environ["SESSION_TTL_SECONDS"] = "1"


def test_the_next_test_does_not_see_it() -> None:
    assert "SESSION_TTL_SECONDS" not in os.environ
    assert not SETTINGS_VARIABLES & os.environ.keys()
