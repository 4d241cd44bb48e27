"""The benchmark's database and Redis: its own PostgreSQL database, loaded with the bundled or a synthetic directory."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from bot.config import PROJECT_ROOT
from bot.storage.data_files import content_hash
from bot.storage.db import init_database, install_dataset, make_engine, upgrade_schema
from bot.storage.models import DatasetVersion

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/helpline_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist (SQLite creates itself)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    import psycopg

    name = parsed.database
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def loaded_hash(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(select(DatasetVersion.content_hash).where(DatasetVersion.id == 1)).scalar()
    except Exception:  # noqa: BLE001 - no schema yet
        return None


def load_directory(url: str, services: int, instance: Path) -> tuple[Path, int]:
    """Make sure the database holds the bundled data (services == 0) or a synthetic directory of `services`."""
    ensure_database(url)
    engine = make_engine(url)
    try:
        upgrade_schema(engine)  # as `helpline init` does on every release
        if services == 0:
            result = init_database(engine, PROJECT_ROOT / "data")
            return PROJECT_ROOT / "data", result.services
        from bench.synthetic import generate

        out = instance / f"synthetic-{services}"
        if (out / "resources.yaml").exists() and loaded_hash(engine) == content_hash(out):
            print(f"database already holds the synthetic directory of {services} services", flush=True)
            return out, services
        started = time.perf_counter()
        generated = generate(out, services, real_data_dirs=(PROJECT_ROOT / "data",))
        install_dataset(engine, generated.dataset, allow_synthetic=True)
        took = time.perf_counter() - started
        print(f"generated and loaded {services} synthetic services in {took:.0f} s", flush=True)
        return out, services
    finally:
        engine.dispose()
