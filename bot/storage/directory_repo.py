"""`SqlDirectory`: the SQL directory tables, read for the in-memory index and queried directly by tests and tools.

`listings()` reads every active service with its areas and points in five queries, for
`bot.core.directory_index.DirectoryIndex` (which is what answers the running helpline); `content_hash()` names the
loaded version of the data files, so a process knows when to rebuild its index. The per-county queries answer the
original three lookups straight from SQL: each opens its own short session, runs one query for the matching
services (plus a fixed number of `selectinload` queries for their phones, categories and areas) and returns frozen
`Resource` values, so nothing lazy-loads after the session is gone. Only services with status `active` are ever
returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.core.directory import County, Phone, Resource
from bot.core.directory_index import Area, Listing
from bot.storage.models import DatasetVersion, Location, Organization, Service, ServiceArea, ServiceAttribute
from bot.storage.models import Phone as PhoneRow

SNAPSHOT_TRIES = 3
T = TypeVar("T")

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
            return [_resource(s) for s in session.scalars(stmt).unique()]

    def national_services(self, category: str) -> list[Resource]:
        """Active services in a category whose service area is the whole nation, by name."""
        stmt = (
            _active_in(category)
            .where(Service.service_areas.any(ServiceArea.extent == "national"))
            .order_by(Service.name, Service.id)
        )
        with self._session_factory() as session:
            return [_resource(s) for s in session.scalars(stmt).unique()]

    def content_hash(self) -> str | None:
        """The content hash of the loaded data files (`DatasetVersion`), or None before the first load."""
        with self._session_factory() as session:
            return session.scalar(select(DatasetVersion.content_hash).where(DatasetVersion.id == 1))

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
                before = session.scalar(select(DatasetVersion.content_hash).where(DatasetVersion.id == 1))
                result = consume(_stream_listings(session))
                after = session.scalar(select(DatasetVersion.content_hash).where(DatasetVersion.id == 1))
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


def _resource(service: Service) -> Resource:
    return Resource(
        id=service.id,
        name=service.name,
        organization=service.organization.name,
        phones=tuple(Phone(number=p.number, display=p.display, kind=p.type) for p in service.phones),
        categories=tuple(a.taxonomy_term_code for a in service.attributes),
        url=service.url,
        description=service.description,
        text_instructions=service.text_instructions,
        source=service.source,
        national=any(a.extent == "national" for a in service.service_areas),
    )


def _stream_listings(session: Session) -> Iterator[Listing]:
    """All active services with their phones, categories, areas and their organization's points, one by one.

    Every query is ordered by the service id, so the rows of one service are consecutive in each and the five
    result streams can be walked side by side (whatever order the database's collation gives the ids).
    """
    shared: dict[str, str] = {}

    def share(value: str | None) -> str | None:
        # States, county names, sources, kinds and categories repeat across services: keep one copy of each.
        return None if value is None else shared.setdefault(value, value)

    active = Service.status == "active"
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
    category_tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
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
    for service_id, name, org_name, url, description, text_instructions, source in services:
        service_areas = tuple(Area(share(e) or e, share(st), share(c), f) for e, st, c, f in areas.take(service_id))
        cats = tuple(share(code) or code for (code,) in categories.take(service_id))
        resource = Resource(
            id=service_id,
            name=name,
            organization=name if org_name == name else share(org_name) or "",
            phones=tuple(Phone(number=n, display=d, kind=share(k) or "voice") for n, d, k in phones.take(service_id)),
            categories=category_tuples.setdefault(cats, cats),
            url=share(url),
            description=share(description),
            text_instructions=share(text_instructions),
            source=share(source) or "",
            national=any(a.extent == "national" for a in service_areas),
        )
        yield Listing(resource, service_areas, tuple((float(la), float(lo)) for la, lo in points.take(service_id)))


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
