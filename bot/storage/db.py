"""Database plumbing: engines, sessions, schema migrations and loading the data files into the directory tables.

Nothing here is global: the app, the workers, the CLI and the tests each build their own engine from a URL and
hand it (or a session factory) down. `init_database` is what a deploy or `helpline` command calls; it is safe to
run on every start and from several processes at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.storage.data_files import DATA_FILES, Dataset, OrganizationEntry, content_hash, load_dataset
from bot.storage.deadline import bound_connections
from bot.storage.models import (
    Base,
    DatasetVersion,
    Location,
    Organization,
    Phone,
    Service,
    ServiceArea,
    ServiceAttribute,
    TaxonomyTerm,
    utcnow,
)

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant will do; it only has to be the same in every process that initialises the same database.
_PG_INIT_LOCK_KEY = 0x68656C70  # "help"

_LOAD_CHUNK = 5000
_DIRECTORY_TABLES_CHILDREN_FIRST = (
    ServiceAttribute,
    Phone,
    ServiceArea,
    Location,
    Service,
    Organization,
    TaxonomyTerm,
)
_DIRECTORY_TABLES_PARENTS_FIRST = tuple(reversed(_DIRECTORY_TABLES_CHILDREN_FIRST))


@dataclass(frozen=True)
class InitResult:
    """What `init_database` did: whether the directory was (re)loaded, and what it now holds."""

    changed: bool
    content_hash: str
    organizations: int
    services: int
    phones: int
    service_areas: int
    categories: int


@dataclass(frozen=True)
class Bounds:
    """How long database work on a request path may wait: to connect, and for one checkout of a connection
    (the statements and commit of one consent read or change). PostgreSQL also cancels a statement past it."""

    connect_seconds: float
    work_seconds: float | None = None
    """None: only connecting is bounded (background work such as loading the directory may take long)."""


def make_engine(url: str, *, echo: bool = False, bounds: Bounds | None = None) -> Engine:
    """An engine for SQLite (foreign keys on, WAL for files, usable across threads) or PostgreSQL (pre-ping).

    With `bounds`, every wait is bounded: connecting, waiting for a pooled connection, a statement (on the
    server), and a connection held out of the pool (cut by a watchdog, see `bot.storage.deadline`). Such an
    engine does not pre-ping (a ping to a stalled server would wait unbounded before the deadline is armed):
    a connection that died meanwhile fails its first use and is dropped.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        work = bounds.work_seconds if bounds is not None else None
        options: dict[str, Any] = {"pool_pre_ping": work is None}
        if bounds is not None:
            # libpq counts whole seconds, 2 at least.
            connect_args: dict[str, Any] = {"connect_timeout": max(2, round(bounds.connect_seconds))}
            if work is not None:
                given = parsed.query.get("options")  # a URL's own options (a search_path, say) are kept
                timeout = f"-c statement_timeout={int(work * 1000)}"
                connect_args["options"] = f"{given} {timeout}" if isinstance(given, str) else timeout
            options.update(connect_args=connect_args, pool_timeout=bounds.connect_seconds)
        engine = create_engine(parsed, echo=echo, **options)
        if work is not None:
            bound_connections(engine, work)
        return engine

    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    options = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        options["poolclass"] = StaticPool
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    work = bounds.work_seconds if bounds is not None else None
    if bounds is not None and work is not None and not in_memory:
        options["pool_timeout"] = bounds.connect_seconds
    engine = create_engine(parsed, echo=echo, **options)
    # How long a write waits for another writer's lock: a request's bound, or long enough for a data load.
    busy_ms = int(work * 1000) if work is not None else 10000

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if work is not None and not in_memory:
        bound_connections(engine, work * 2)  # past the busy timeout, which fails the wait cleanly first
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to the engine; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, without an alembic.ini on disk."""
    # Alembic is imported only when migrating: otherwise it would sit in every web worker's memory.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None before the first migration."""
    with engine.connect() as connection:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema(engine: Engine) -> None:
    """Migrate the database to the newest schema (alembic upgrade head) in one locked transaction."""
    with engine.connect() as connection, connection.begin():
        _take_init_lock(connection)
        _upgrade(connection)


class SyntheticDataRefused(ValueError):
    """The data folder holds generated benchmark data and `allow_synthetic` was not given."""


def init_database(
    engine: Engine, data_dir: Path, dataset: Dataset | None = None, *, allow_synthetic: bool = False
) -> InitResult:
    """Upgrade the schema and load the data files, replacing the directory only when the files changed.

    `dataset`, when given, is loaded instead of reading `data_dir` again: the reloader passes the exact
    version it checked, so a file saved again meanwhile cannot slip in unchecked.

    The files' content hash is compared with the loaded one first, so an unchanged folder is not even parsed
    (parsing 100,000 services takes minutes; `helpline init` runs on every release). A directory marked
    `synthetic` (made by `python -m bench.synthetic`: fictional services and numbers) is refused unless
    `allow_synthetic` is set (`ALLOW_SYNTHETIC_DATA=1`): it is for benchmarks, never for people.
    """
    data_dir = Path(data_dir)
    if dataset is not None:
        return install_dataset(engine, dataset, allow_synthetic=allow_synthetic)
    digest = content_hash(data_dir)
    if not allow_synthetic and _marked_synthetic(data_dir):
        raise _refusal(data_dir)
    with engine.connect() as connection, connection.begin():
        _take_init_lock(connection)
        _upgrade(connection)
        with Session(bind=connection) as session:
            current = session.get(DatasetVersion, 1)
            if current is not None and current.content_hash == digest:
                result = _counts(session, changed=False, content_hash=digest)
            else:
                dataset = load_dataset(data_dir)
                if dataset.synthetic and not allow_synthetic:
                    raise _refusal(data_dir)
                result = _load(session, dataset)
                session.flush()
    _log_result(result, str(data_dir))
    return result


def install_dataset(engine: Engine, dataset: Dataset, *, allow_synthetic: bool = False) -> InitResult:
    """Load an already-validated `Dataset` (as `init_database` would after reading files), if it changed."""
    if dataset.synthetic and not allow_synthetic:
        raise _refusal("this dataset")
    with engine.connect() as connection, connection.begin():
        _take_init_lock(connection)
        _upgrade(connection)
        with Session(bind=connection) as session:
            result = _load(session, dataset)
            session.flush()
    _log_result(result, "a dataset")
    return result


def _marked_synthetic(data_dir: Path) -> bool:
    """A cheap look at the bytes: does any file carry the `synthetic: true` mark of generated data?"""
    return any(b"synthetic: true" in (data_dir / name).read_bytes() for name in DATA_FILES)


def _refusal(where: object) -> SyntheticDataRefused:
    return SyntheticDataRefused(
        f"{where} holds SYNTHETIC benchmark data (fictional services and 555-01xx numbers); "
        "set ALLOW_SYNTHETIC_DATA=1 to load it into a benchmark database, never a real one"
    )


def _log_result(result: InitResult, source: str) -> None:
    if result.changed:
        log.info("directory loaded from %s: %s services (%s)", source, result.services, result.content_hash[:12])
    else:
        log.info("directory already up to date (%s)", result.content_hash[:12])


def _take_init_lock(connection: Connection) -> None:
    """Serialise initialisation between processes until the surrounding transaction ends."""
    if connection.dialect.name == "postgresql":
        # Held until commit: a second process waits, then sees the first one's content hash and skips.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_INIT_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None and not dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    from alembic import command

    command.upgrade(config, "head")


def _load(session: Session, dataset: Dataset) -> InitResult:
    current = session.get(DatasetVersion, 1)
    if current is not None and current.content_hash == dataset.content_hash:
        return _counts(session, changed=False, content_hash=dataset.content_hash)

    for model in _DIRECTORY_TABLES_CHILDREN_FIRST:
        session.execute(delete(model))
    session.execute(insert(TaxonomyTerm), [{"code": c.code, "name": c.name} for c in dataset.categories])
    # Plain multi-row INSERTs, a few thousand organizations at a time, instead of one ORM object per row: a
    # 100,000-service directory loads in well under a minute and a few hundred MB instead of gigabytes.
    organizations = dataset.organizations
    for start in range(0, len(organizations), _LOAD_CHUNK):
        rows: dict[type[Base], list[dict[str, Any]]] = {model: [] for model in _DIRECTORY_TABLES_PARENTS_FIRST}
        for org in organizations[start : start + _LOAD_CHUNK]:
            for table, row in _organization(org):
                rows[table].append(row)
        for table, batch in rows.items():
            if batch:
                session.execute(insert(table), batch)
    if current is None:
        session.add(DatasetVersion(id=1, content_hash=dataset.content_hash, loaded_at=utcnow()))
    else:
        current.content_hash = dataset.content_hash
        current.loaded_at = utcnow()
    session.flush()
    return _counts(session, changed=True, content_hash=dataset.content_hash)


def _organization(org: OrganizationEntry) -> list[tuple[type[Base], dict[str, Any]]]:
    """The rows of one organization, parents before children."""
    rows: list[tuple[type[Base], dict[str, Any]]] = [
        (
            Organization,
            {
                "id": org.id, "name": org.name, "description": org.description, "website": org.website,
                "source": org.source, "assured_date": org.assured_date,
            },
        )
    ]
    for loc in org.locations:
        rows.append((
            Location,
            {
                "id": loc.id, "organization_id": org.id, "name": loc.name, "address_1": loc.address_1,
                "city": loc.city, "state_province": loc.state, "postal_code": loc.postal_code,
                "latitude": loc.latitude, "longitude": loc.longitude,
            },
        ))
    for s in org.services:
        rows.append((
            Service,
            {
                "id": s.id, "organization_id": org.id, "name": s.name, "description": s.description, "url": s.url,
                "status": s.status, "text_instructions": s.text_instructions, "source": s.source,
                "assured_date": s.assured_date,
            },
        ))
        rows += [
            (Phone, {"service_id": s.id, "position": i, "number": p.number, "display": p.display, "type": p.type})
            for i, p in enumerate(s.phones)
        ]
        rows += [
            (ServiceArea, {"service_id": s.id, "extent": a.extent, "state": a.state, "county_name": a.county,
                           "county_fips": a.fips})
            for a in s.service_areas
        ]
        rows += [
            (ServiceAttribute, {"service_id": s.id, "taxonomy_term_code": code, "position": i})
            for i, code in enumerate(s.categories)
        ]
    return rows


def _counts(session: Session, *, changed: bool, content_hash: str) -> InitResult:
    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return InitResult(
        changed=changed,
        content_hash=content_hash,
        organizations=count(Organization),
        services=count(Service),
        phones=count(Phone),
        service_areas=count(ServiceArea),
        categories=count(TaxonomyTerm),
    )
