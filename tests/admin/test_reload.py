"""Hot reload inside one app (a worker): checked changes are served, broken ones refused, conversations go on."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import PROJECT_ROOT, load_settings
from bot.reloader import DATA_REJECTED_KEY, VERSION_KEY
from bot.storage.db import init_database, make_engine
from bot.web import create_app
from tests.conftest import make_env
from tests.places import shared_places
from tests.twilio_webhooks import Phone, assert_hotlines

WELCOME = "Hi, this is the {program}. Reply with a number, or text your COUNTY or ZIP code for local peer support:"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """Private copies of flows/ and data/ that a test may edit."""
    flows, data = tmp_path / "flows", tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    shutil.copytree(PROJECT_ROOT / "data", data)
    return flows, data


@pytest.fixture
def own_db(tmp_path: Path) -> str:
    """A SQLite directory of its own, for tests that reload data into it."""
    url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
    engine = make_engine(url)
    init_database(engine, PROJECT_ROOT / "data")
    engine.dispose()
    return url


def worker(tmp_path, database_url, redis_url, redis_client, files, **env):  # type: ignore[no-untyped-def]
    flows, data = files
    settings = load_settings(
        make_env(tmp_path, database_url, redis_url, FLOWS_DIR=str(flows), DATA_DIR=str(data), **env)
    )
    return create_app(settings, redis_client, places=shared_places())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_valid_change_is_served_and_the_conversation_goes_on(
    tmp_path, database_url, redis_url, redis_client, files
) -> None:
    app = worker(tmp_path, database_url, redis_url, redis_client, files)
    phone = Phone(app.test_client(), "+13865550301")
    phone.send("hi")
    assert "COUNTY" in phone.send("1")
    edit(files[0] / "main.yaml", "to find {topic} near you.", "to find {topic} near you (v2).")
    app.extensions["helpline_parts"].reloader.reload_now()
    reply = phone.send("nowhere at all")
    assert "near you (v2)." in reply, reply
    assert "Volusia Recovery Alliance" in phone.send("volusia")


def test_a_broken_change_is_refused_with_its_line_and_the_last_good_version_serves(
    tmp_path, database_url, redis_url, redis_client, files, caplog
) -> None:
    app = worker(tmp_path, database_url, redis_url, redis_client, files)
    phone = Phone(app.test_client(), "+13865550302")
    phone.send("hi")
    edit(files[0] / "main.yaml", "        goto: programs", "        goto: progams")
    with caplog.at_level(logging.ERROR, logger="bot.reloader"):
        app.extensions["helpline_parts"].reloader.reload_now()
    lines = (files[0] / "main.yaml").read_text().splitlines()
    goto = next(i for i, t in enumerate(lines, 1) if "goto: progams" in t)
    line = max(i for i, t in enumerate(lines[:goto], 1) if "- key:" in t)  # the option's first line
    assert f"{files[0] / 'main.yaml'}:{line}: state 'welcome' goes to 'progams', which is not defined" in caplog.text
    assert "the last good version keeps serving" in caplog.text
    assert "Recovery programs. Reply with a number:" in phone.send("3")


def test_a_vanished_state_restarts_at_the_menu_with_an_explanation(
    tmp_path, database_url, redis_url, redis_client, files
) -> None:
    flows = files[0]
    app = worker(tmp_path, database_url, redis_url, redis_client, files)
    phone = Phone(app.test_client(), "+13865550303")
    phone.send("hi")
    assert "Other help" in phone.send("4")
    text = (flows / "main.yaml").read_text()
    start, end = text.index("      - key: 4\n        label: {en: \"Other help"), text.index("      - key: 5\n")
    text = text[:start] + text[end:]
    start, end = text.index("  other_help:\n"), text.index("  talk_now:\n")
    (flows / "main.yaml").write_text(text[:start] + text[end:])
    app.extensions["helpline_parts"].reloader.reload_now()
    reply = phone.send("1")
    assert reply.startswith("Our menu has changed since your last message, so we're starting again from the top.")
    assert "1 Local peer support" in reply and "Other help" not in reply
    assert_hotlines(reply)


def test_a_worker_started_on_a_broken_file_serves_the_last_good_copy(
    tmp_path, database_url, redis_url, redis_client, files, caplog
) -> None:
    worker(tmp_path, database_url, redis_url, redis_client, files)  # keeps the good version
    edit(files[0] / "main.yaml", "start: welcome", "start: welcom")
    with caplog.at_level(logging.ERROR, logger="bot.reloader"):
        later = worker(tmp_path, database_url, redis_url, redis_client, files)
    assert "start state 'welcom' is not defined" in caplog.text
    assert "serving the last good flow" in caplog.text
    assert "1 Local peer support" in Phone(later.test_client(), "+13865550304").send("hi")


def test_with_no_usable_flow_at_all_every_reply_is_the_hotlines(
    tmp_path, database_url, redis_url, redis_client, files
) -> None:
    (files[0] / "main.yaml").write_text("flow: [this is not a flow\n")
    app = worker(tmp_path, database_url, redis_url, redis_client, files)
    reply = Phone(app.test_client(), "+13865550305").send("hi")
    assert_hotlines(reply)


def test_a_valid_data_change_is_loaded_and_a_broken_one_refused(
    tmp_path, own_db, redis_url, redis_client, files, caplog
) -> None:
    data = files[1]
    app = worker(tmp_path, own_db, redis_url, redis_client, files)
    reloader = app.extensions["helpline_parts"].reloader
    phone = Phone(app.test_client(), "+13865550306")
    edit(
        data / "resources.yaml",
        "name: Volusia Recovery Alliance\n      description",
        "name: Volusia Recovery Alliance (new hours)\n      description",
    )
    reloader.reload_now()
    assert "Volusia Recovery Alliance (new hours)" in phone.send("volusia")
    edit(
        data / "resources.yaml",
        '{number: "+13867777337", display: "(386) 777-PEER"',
        '{number: "+13867777", display: "(386) 777-PEER"',
    )
    with caplog.at_level(logging.ERROR, logger="bot.reloader"):
        reloader.reload_now()
    assert "rejected the data" in caplog.text and "resources.yaml:" in caplog.text
    assert redis_client.get(DATA_REJECTED_KEY) is not None
    assert "Volusia Recovery Alliance (new hours): (386) 777-PEER" in phone.send("volusia")


def test_helpline_reload_refuses_a_broken_flow_and_publishes_a_good_one(
    tmp_path, own_db, redis_url, redis_client, files, monkeypatch
) -> None:
    flows, data = files
    env = make_env(tmp_path, own_db, redis_url, FLOWS_DIR=str(flows), DATA_DIR=str(data), RELOAD_WATCH_FILES="0")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = create_app(load_settings(env), redis_client, places=shared_places())
    phone = Phone(app.test_client(), "+13865550307")
    edit(
        flows / "main.yaml",
        "Recovery programs. Reply with a number:",
        "Recovery programs, version two. Reply with a number:",
    )
    edit(flows / "main.yaml", "  at_start:", "  at_the_start:")
    refused = CliRunner().invoke(main, ["reload"])
    assert refused.exit_code == 1
    assert "messages.at_the_start is not a message the engine uses" in refused.output
    assert redis_client.get(VERSION_KEY) is None
    edit(flows / "main.yaml", "  at_the_start:", "  at_start:")
    phone.send("hi")
    assert "Recovery programs. Reply" in phone.send("3"), (
        "without RELOAD_WATCH_FILES an edit waits for `helpline reload`"
    )
    published = CliRunner().invoke(main, ["reload"])
    assert published.exit_code == 0, published.output
    assert "published reload #1" in published.output
    app.extensions["helpline_parts"].reloader.reload_now()
    assert "Recovery programs, version two." in phone.send("menu") + phone.send("3")


def test_a_worker_behind_catches_up_instead_of_restarting_the_conversation(
    tmp_path, database_url, redis_url, redis_client, files
) -> None:
    ahead = worker(tmp_path, database_url, redis_url, redis_client, files, RELOAD_CHECK_SECONDS="3600")
    behind = worker(tmp_path, database_url, redis_url, redis_client, files, RELOAD_CHECK_SECONDS="3600")
    for app in (ahead, behind):
        Phone(app.test_client(), "+13865550399").send("hi")  # spends each worker's first look for changes
    edit(files[0] / "main.yaml", "        goto: talk_now", "        goto: talk_now_v2")
    edit(files[0] / "main.yaml", "  talk_now:\n", "  talk_now_v2:\n")
    ahead.extensions["helpline_parts"].reloader.reload_now()
    number = "+13865550308"
    Phone(ahead.test_client(), number).send("menu")
    assert "day or night" in Phone(ahead.test_client(), number).send("5")
    reply = Phone(behind.test_client(), number).send("1")
    assert "COUNTY" in reply and "Our menu has changed" not in reply
