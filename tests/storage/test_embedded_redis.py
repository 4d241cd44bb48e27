"""The embedded Redis keeps every file under its own folder, and leaves none behind but its data."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from bot.storage.redis_server import EmbeddedRedis, client_for


def test_the_embedded_redis_lives_under_its_folder_and_its_run_files_go_with_it(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    client = client_for(server.url)
    assert client.ping()
    assert server.url == f"unix://{tmp_path / 'redis' / 'run' / 'redis.socket'}"
    assert {p.name for p in (tmp_path / "redis" / "run").iterdir()} >= {"redis.socket", "redis.pid", "redis.log"}
    server.stop()
    assert not (tmp_path / "redis" / "run").exists()
    with pytest.raises(redis.ConnectionError):
        client.ping()
