"""The `helpline` command: Flask's CLI for this app, plus `init`, `serve` and `worker`.

`helpline serve` is the one-command run on embedded defaults: it creates and loads the database, starts
an embedded Redis when `REDIS_URL` is unset, and runs the web server as the Procfile does, with one
background worker beside it on that embedded Redis. `helpline worker` runs a worker on its own (the
Procfile's `worker:`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import click
from flask.cli import FlaskGroup

from bot.admin.cli import chat, data, flows, reload_command
from bot.config import LOG_FORMAT, PROJECT_ROOT, ConfigError, Settings, load_settings
from bot.storage.db import Bounds, SyntheticDataRefused, init_database, make_engine
from bot.storage.redis_server import EmbeddedRedis


def _create_app():
    from bot.web import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Helpline: SMS and phone helpline bot for recovery and peer support."""


main.add_command(flows)
main.add_command(data)
main.add_command(chat)
main.add_command(reload_command)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _init(settings: Settings) -> None:
    # Connecting is bounded (a hung database fails it in seconds); loading the directory may take minutes.
    engine = make_engine(settings.database_url, bounds=Bounds(settings.database_connect_timeout_seconds))
    try:
        result = init_database(engine, settings.data_dir, allow_synthetic=settings.allow_synthetic_data)
    except SyntheticDataRefused as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    state = "loaded" if result.changed else "unchanged"
    click.echo(f"database ready ({state}): {result}")
    # Web workers read the county/ZIP table from a small file in the instance folder: write it now, once.
    from bot.storage.gazetteer_cache import load_gazetteer

    load_gazetteer(settings.instance_dir)


@main.command("init", with_appcontext=False)
def init_command() -> None:
    """Create or upgrade the schema and load data/ (running it twice changes nothing)."""
    _init(_settings())


@main.command("purge", with_appcontext=False)
def purge_command() -> None:
    """Delete per-person data (sessions, markers, jobs) older than RETENTION_DAYS; opt-outs are kept."""
    from bot.maintenance import purge, retention_seconds
    from bot.storage.redis_server import client_for

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: point it at the Redis the helpline uses")
    click.echo(str(purge(client_for(settings.redis_url), retention_seconds(settings))))


def _publish(settings: Settings) -> None:
    """SIGHUP: what `helpline reload` does, for the helpline this command runs."""
    from bot.admin.publish import publish

    try:
        result = publish(settings)
    except Exception as exc:  # noqa: BLE001 - a failed reload must not stop the running helpline
        click.echo(f"reload failed: {type(exc).__name__}: {exc}", err=True)
        return
    for line in result.problems:
        click.echo(line, err=True)
    click.echo(result.summary, err=True)


@main.command("serve", with_appcontext=False)
def serve_command() -> None:
    """Run the bot: database, embedded Redis if REDIS_URL is unset, and the web server (gunicorn)."""
    settings = _settings()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    try:
        _init(settings)
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001 - the web workers serve the hotlines while the database is away
        click.echo(f"database not ready ({type(exc).__name__}): serving without it until it answers", err=True)
    env = dict(os.environ)
    embedded: EmbeddedRedis | None = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.instance_dir / "redis")
        env["REDIS_URL"] = embedded.url
        click.echo(f"embedded Redis at {embedded.url}")
    if settings.dev_mode:
        env["HELPLINE_DEV"] = "1"
        env.setdefault("HASH_SECRET", settings.hash_secret)
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(PROJECT_ROOT),
            "-w",
            str(settings.web_concurrency),
            # Threads, as the Procfile runs it: a slow client holds one thread, not a whole worker.
            "-k",
            "gthread",
            "--threads",
            str(settings.web_threads),
            "-b",
            f"{settings.host}:{settings.port}",
            "wsgi:app",
        ],
        env=env,
    )
    children = [web]
    if embedded is not None:
        # Nothing else could be draining this private Redis, so the texts callers ask for need a worker here.
        children.append(subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=str(PROJECT_ROOT)))
        click.echo("background worker started (texts callers ask for)")
    click.echo(f"helpline listening on http://{settings.host}:{settings.port} (POST /sms, POST /voice)")

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    reload_asked: list[bool] = []

    def ask_reload(*_: object) -> None:
        reload_asked.append(True)  # handled in the loop below, outside the signal handler

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, ask_reload)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
            if reload_asked:
                reload_asked.clear()
                _publish(settings.with_overrides(redis_url=env["REDIS_URL"]) if "REDIS_URL" in env else settings)
    finally:
        stop()
        for child in children:
            child.wait(timeout=15)
        if embedded is not None:
            embedded.stop()
    sys.exit(max((child.returncode or 0) for child in children))


@main.command("worker", with_appcontext=False)
@click.option("--burst", is_flag=True, help="Stop when the queue is empty instead of waiting for more jobs.")
def worker_command(burst: bool) -> None:
    """Run a background worker (rq) for the jobs the web app queues: texting callers their lists."""
    from bot.worker import run_worker

    settings = _settings()
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: the worker must use the Redis the web app queues jobs in")
    run_worker(settings, burst=burst)


if __name__ == "__main__":
    main()
