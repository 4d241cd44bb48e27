"""Listings from the database: the one mapping from stored rows to `Resource`, and every read of them.

`SqlDirectory.read_listings` streams every active service, with its areas and points, into
`bot.core.directory_index.DirectoryIndex` (which is what answers the running helpline); `content_hash()` names
the loaded version of the data files, so a process knows when to rebuild its index. The per-county lookups
answer the domain's port straight from SQL, for tools, tests and the benchmark's baseline. `longest_listings`
and `served_county_names` are what the flow check needs, found without reading the whole directory.

`bot.core.directory_index.to_listing` is the only place a stored service becomes a `Resource`: the database's
rows, its ORM objects and the data files' entries (`bot.storage.data_files.dataset_listings`) all go through
it, so they cannot drift apart. Only services with
status `active` are ever returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.core.directory import County, Resource
from bot.core.directory_index import Listing, to_listing
from bot.storage.models import DatasetVersion, Location, Organization, Service, ServiceArea, ServiceAttribute
from bot.storage.models import Phone as PhoneRow

SNAPSHOT_TRIES = 3
CANDIDATES = 25
"""How many of the longest listings the flow check measures."""
T = TypeVar("T")

def _orm_resource(s: Service) -> Resource:
    return to_listing(
        (s.id, s.name, s.organization.name, s.url, s.description, s.text_instructions, s.source),
        ((p.number, p.display, p.type) for p in s.phones),
        (a.taxonomy_term_code for a in s.attributes),
        ((a.extent, a.state, a.county_name, a.county_fips) for a in s.service_areas),
    ).resource


class _Shared:
    """One copy of each repeated value, for `to_listing`'s `share`."""

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        return None if value is None else self._values.setdefault(value, value)


_LOCAL = 0
_STATEWIDE = 1


class SqlDirectory:
    """Read-only resource directory backed by SQLAlchemy; implements `bot.core.directory.Directory`."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory

    def services_in_county(self, county: County, category: str) -> list[Resource]:
        """Active services in a category covering the county: its own services first, then statewide ones."""
        state = county.state.upper()
        local = and_(ServiceArea.extent == "county", _same_county(county, state))
        statewide = and_(ServiceArea.extent == "state", ServiceArea.state == state)
        ranked = (
            select(ServiceArea.service_id, func.min(case((local, _LOCAL), else_=_STATEWIDE)).label("rank"))
            .where(or_(local, statewide))
            .group_by(ServiceArea.service_id)
            .subquery()
        )
        stmt = (
            _active_in(category)
            .join(ranked, ranked.c.service_id == Service.id)
            .order_by(ranked.c.rank, Service.name, Service.id)
        )
        with self._session_factory() as session:
            return [_orm_resource(s) for s in session.scalars(stmt).unique()]

    def national_services(self, category: str) -> list[Resource]:
        """Active services in a category whose service area is the whole nation, by name."""
        stmt = (
            _active_in(category)
            .where(Service.service_areas.any(ServiceArea.extent == "national"))
            .order_by(Service.name, Service.id)
        )
        with self._session_factory() as session:
            return [_orm_resource(s) for s in session.scalars(stmt).unique()]

    def content_hash(self) -> str | None:
        """The content hash of the loaded data files (`DatasetVersion`), or None before the first load."""
        return loaded_hash(self._session_factory)

    def active_services(self) -> int:
        """How many services are active: what an index of this directory would hold."""
        with self._session_factory() as session:
            return session.scalar(select(func.count()).select_from(Service).where(Service.status == "active")) or 0

    def listings(self) -> tuple[str | None, list[Listing]]:
        """Every active service as an index `Listing`, with the content hash of the data they came from."""
        return self.read_listings(list)

    def read_listings(self, consume: Callable[[Iterator[Listing]], T]) -> tuple[str | None, T]:
        """Stream every active service, as a `Listing`, into `consume` (say `DirectoryIndex.build`).

        Five plain queries ordered by service and read in batches side by side (no ORM objects, and never all
        rows in memory at once), so 100,000 services load in seconds without a memory peak. The data's hash is
        read before and after, and the whole read repeated if a reload landed in between, so what `consume`
        saw is one version's.
        """
        for _ in range(SNAPSHOT_TRIES):
            with self._session_factory() as session:
                before = _loaded_hash(session)
                result = consume(_stream_listings(session))
                after = _loaded_hash(session)
            if before == after:
                return after, result
        raise RuntimeError(f"the directory changed during {SNAPSHOT_TRIES} reads in a row")

    def counties_served(self, category: str) -> set[str]:
        """`County.key`s of the counties with at least one active local service in the category."""
        stmt = (
            select(ServiceArea.state, ServiceArea.county_name)
            .join(Service, Service.id == ServiceArea.service_id)
            .where(
                ServiceArea.extent == "county",
                Service.status == "active",
                Service.attributes.any(ServiceAttribute.taxonomy_term_code == category),
            )
            .distinct()
        )
        with self._session_factory() as session:
            rows = session.execute(stmt).all()
        return {County(name=name, state=state).key for state, name in rows if state and name}


def _same_county(county: County, state: str) -> ColumnElement[bool]:
    by_name = and_(ServiceArea.state == state, func.lower(ServiceArea.county_name) == county.name.strip().lower())
    if county.fips:
        return or_(by_name, ServiceArea.county_fips == county.fips)
    return by_name


def _active_in(category: str) -> Select[Service]:
    return (
        select(Service)
        .where(
            Service.status == "active",
            Service.attributes.any(ServiceAttribute.taxonomy_term_code == category),
        )
        .options(
            joinedload(Service.organization),
            selectinload(Service.phones),
            selectinload(Service.attributes),
            selectinload(Service.service_areas),
        )
    )


def _stream_listings(session: Session, only: ColumnElement[bool] | None = None) -> Iterator[Listing]:
    """All active services (or those of them `only` picks) with their phones, categories, areas and their
    organization's points, one by one.

    Every query is ordered by the service id, so the rows of one service are consecutive in each and the five
    result streams can be walked side by side (whatever order the database's collation gives the ids).
    """
    share = _Shared()
    active = Service.status == "active" if only is None else and_(Service.status == "active", only)
    phones = _rows_by_service(session, select(PhoneRow.service_id, PhoneRow.number, PhoneRow.display, PhoneRow.type)
                              .join(Service, Service.id == PhoneRow.service_id).where(active)
                              .order_by(PhoneRow.service_id, PhoneRow.position, PhoneRow.id))
    categories = _rows_by_service(session, select(ServiceAttribute.service_id, ServiceAttribute.taxonomy_term_code)
                                  .join(Service, Service.id == ServiceAttribute.service_id).where(active)
                                  .order_by(ServiceAttribute.service_id, ServiceAttribute.position))
    areas = _rows_by_service(session, select(ServiceArea.service_id, ServiceArea.extent, ServiceArea.state,
                                             ServiceArea.county_name, ServiceArea.county_fips)
                             .join(Service, Service.id == ServiceArea.service_id).where(active)
                             .order_by(ServiceArea.service_id, ServiceArea.id))
    points = _rows_by_service(session, select(Service.id, Location.latitude, Location.longitude)
                              .join(Location, Location.organization_id == Service.organization_id)
                              .where(active, Location.latitude.is_not(None), Location.longitude.is_not(None))
                              .order_by(Service.id, Location.id))
    services = session.execute(
        select(
            Service.id, Service.name, Organization.name, Service.url, Service.description,
            Service.text_instructions, Service.source,
        )
        .join(Organization, Organization.id == Service.organization_id)
        .where(active)
        .order_by(Service.id)
        .execution_options(yield_per=_BATCH)
    )
    for row in services:
        service_id = row[0]
        yield to_listing(
            tuple(row),  # type: ignore[arg-type]
            phones.take(service_id),
            (code for (code,) in categories.take(service_id)),
            areas.take(service_id),
            points.take(service_id),
            share,
        )


_BATCH = 2000


class _rows_by_service:
    """Walks a query ordered by service id, handing out the rows of one service at a time."""

    def __init__(self, session: Session, stmt: Any) -> None:
        self._rows = iter(session.execute(stmt.execution_options(yield_per=_BATCH)))
        self._next: Any = next(self._rows, None)

    def take(self, service_id: str) -> list[tuple[Any, ...]]:
        """The rows (without the id) of `service_id`, which must be the next service the query has rows for."""
        taken = []
        while self._next is not None and self._next[0] == service_id:
            taken.append(tuple(self._next[1:]))
            self._next = next(self._rows, None)
        return taken


def longest_listings(session_factory: Callable[[], Session], limit: int = CANDIDATES) -> list[Resource]:
    """The active services with the longest name, instructions and address, longest first, as `Resource`s."""
    size = (
        func.length(Service.name)
        + func.coalesce(func.length(Service.text_instructions), 0)
        + func.coalesce(func.length(Service.url), 0)
    )
    longest = select(Service.id).where(Service.status == "active").order_by(size.desc(), Service.id).limit(limit)
    with session_factory() as session:
        ids = list(session.scalars(longest))
        found = {listing.resource.id: listing.resource for listing in _stream_listings(session, Service.id.in_(ids))}
    return [found[i] for i in ids if i in found]


def served_county_names(session_factory: Callable[[], Session]) -> list[tuple[str, str]]:
    """(state, county name) of every county with an active local listing."""
    stmt = (
        select(ServiceArea.state, ServiceArea.county_name)
        .join(Service, Service.id == ServiceArea.service_id)
        .where(ServiceArea.extent == "county", Service.status == "active")
        .distinct()
    )
    with session_factory() as session:
        return [(state, name) for state, name in session.execute(stmt).all() if state and name]


def loaded_hash(session_factory: Callable[[], Session]) -> str | None:
    """The content hash of the data files the directory was last loaded from, or None before the first load."""
    with session_factory() as session:
        return _loaded_hash(session)


def _loaded_hash(session: Session) -> str | None:
    return session.scalar(select(DatasetVersion.content_hash).where(DatasetVersion.id == 1))
