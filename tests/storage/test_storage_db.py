"""Tests for engines, migrations and `init_database` against a real database (SQLite, and PostgreSQL if configured)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from bot.storage import db
from bot.storage.data_files import DataFileError, OrganizationEntry
from bot.storage.db import (
    InitResult,
    alembic_config,
    init_database,
    make_engine,
    make_session_factory,
    schema_revision,
    upgrade_schema,
)
from bot.storage.models import Base, DatasetVersion, Organization, Phone, Service

SHIPPED_COUNTS = {"organizations": 16, "services": 16, "phones": 13, "service_areas": 20, "categories": 12}


def counts(result: InitResult) -> dict[str, int]:
    return {name: getattr(result, name) for name in SHIPPED_COUNTS}


def service_status(engine: Engine, service_id: str) -> str | None:
    with make_session_factory(engine)() as session:
        return session.scalar(select(Service.status).where(Service.id == service_id))


def loaded_version(engine: Engine) -> tuple[str, datetime]:
    with make_session_factory(engine)() as session:
        version = session.get(DatasetVersion, 1)
        assert version is not None
        return version.content_hash, version.loaded_at


def deactivate_volusia(data_dir: Path) -> None:
    path = data_dir / "resources.yaml"
    text = path.read_text()
    marker = "    - id: volusia-recovery-alliance-peer-support\n"
    head, tail = text.split(marker)
    path.write_text(head + marker + tail.replace("status: active", "status: inactive", 1))


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_init_loads_the_shipped_data(engine: Engine, data_dir: Path) -> None:
    result = init_database(engine, data_dir)

    assert result.changed is True
    assert counts(result) == SHIPPED_COUNTS
    assert schema_revision(engine) == head_revision()
    content_hash, loaded_at = loaded_version(engine)
    assert content_hash == result.content_hash
    assert loaded_at.tzinfo is not None
    assert abs(datetime.now(UTC) - loaded_at) < timedelta(minutes=5)
    with make_session_factory(engine)() as session:
        phone = session.scalars(select(Phone).where(Phone.display == "(386) 777-PEER")).one()
        assert (phone.number, phone.service_id) == ("+13867777337", "volusia-recovery-alliance-peer-support")


def test_init_twice_changes_nothing(engine: Engine, data_dir: Path) -> None:
    first = init_database(engine, data_dir)
    version_before = loaded_version(engine)
    with make_session_factory(engine)() as session:
        phone_ids_before = sorted(session.scalars(select(Phone.id)))

    second = init_database(engine, data_dir)

    assert second.changed is False
    assert counts(second) == counts(first) == SHIPPED_COUNTS
    assert second.content_hash == first.content_hash
    assert loaded_version(engine) == version_before
    with make_session_factory(engine)() as session:
        assert sorted(session.scalars(select(Phone.id))) == phone_ids_before


def test_changed_data_file_reloads(engine: Engine, data_dir: Path) -> None:
    first = init_database(engine, data_dir)
    deactivate_volusia(data_dir)

    second = init_database(engine, data_dir)

    assert second.changed is True
    assert second.content_hash != first.content_hash
    assert counts(second) == SHIPPED_COUNTS
    assert service_status(engine, "volusia-recovery-alliance-peer-support") == "inactive"
    assert loaded_version(engine)[0] == second.content_hash
    assert init_database(engine, data_dir).changed is False


def test_removed_service_disappears_on_reload(engine: Engine, data_dir: Path) -> None:
    init_database(engine, data_dir)
    path = data_dir / "resources.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("# --- Cleveland, Ohio ---")] + text[text.index("# --- National ---") :])

    result = init_database(engine, data_dir)

    assert (result.organizations, result.services, result.phones) == (15, 15, 12)
    assert service_status(engine, "community-assessment-and-treatment-services-recovery") is None


def test_invalid_data_raises_and_leaves_the_database_alone(engine: Engine, data_dir: Path) -> None:
    first = init_database(engine, data_dir)
    path = data_dir / "resources.yaml"
    path.write_text(path.read_text().replace('"+13867777337"', '"+1386777733"'))

    with pytest.raises(DataFileError):
        init_database(engine, data_dir)

    assert loaded_version(engine)[0] == first.content_hash
    assert service_status(engine, "volusia-recovery-alliance-peer-support") == "active"


def test_failed_reload_rolls_back_to_the_previous_directory(
    engine: Engine, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = init_database(engine, data_dir)
    deactivate_volusia(data_dir)
    real = db._organization

    def fail_on_the_last(org: OrganizationEntry) -> Organization:
        if org.id == "al-anon":
            raise RuntimeError("disk on fire")
        return real(org)

    monkeypatch.setattr(db, "_organization", fail_on_the_last)

    with pytest.raises(RuntimeError, match="disk on fire"):
        init_database(engine, data_dir)

    assert loaded_version(engine)[0] == first.content_hash
    assert service_status(engine, "volusia-recovery-alliance-peer-support") == "active"
    monkeypatch.undo()
    assert init_database(engine, data_dir).changed is True


def test_concurrent_initialisation_loads_once(engine: Engine, data_dir: Path) -> None:
    barrier = threading.Barrier(3)
    results: list[InitResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(init_database(engine, data_dir))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(r.changed for r in results) == [False, False, True]
    assert all(counts(r) == SHIPPED_COUNTS for r in results)


def test_migrations_match_the_models(engine: Engine) -> None:
    upgrade_schema(engine)
    upgrade_schema(engine)

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)

    assert diff == []


def test_downgrade_and_upgrade_again(engine: Engine, data_dir: Path) -> None:
    init_database(engine, data_dir)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    result = init_database(engine, data_dir)

    assert result.changed is True
    assert counts(result) == SHIPPED_COUNTS


def test_alembic_config_can_run_from_a_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'by-url.sqlite3'}"

    command.upgrade(alembic_config(url), "head")

    engine = make_engine(url)
    assert schema_revision(engine) == head_revision()
    assert "service_area" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_file_engine_enforces_foreign_keys_and_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'app.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert (tmp_path / "nested" / "app.sqlite3").exists()
    engine.dispose()


def test_in_memory_sqlite_is_shared_across_threads(data_dir: Path) -> None:
    engine = make_engine("sqlite://")
    init_database(engine, data_dir)
    seen: list[str | None] = []

    thread = threading.Thread(target=lambda: seen.append(service_status(engine, "sma-healthcare-hotline")))
    thread.start()
    thread.join()

    assert seen == ["active"]
    engine.dispose()


def test_postgres_urls_get_the_psycopg_driver() -> None:
    engine = make_engine("postgres://user@db.example/helpline")

    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.pool._pre_ping is True
