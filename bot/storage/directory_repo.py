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

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.core.directory import County, Phone, Resource
from bot.core.directory_index import Area, Listing
from bot.storage.models import DatasetVersion, Location, Organization, Service, ServiceArea, ServiceAttribute
from bot.storage.models import Phone as PhoneRow

SNAPSHOT_TRIES = 3

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

    def listings(self) -> tuple[str | None, list[Listing]]:
        """Every active service as an index `Listing`, with the content hash of the data they came from.

        Five plain queries (no ORM objects, so 100,000 services load in seconds); the hash is read before and
        after, and the read repeated if a reload landed in between, so the listings are one version's.
        """
        for _ in range(SNAPSHOT_TRIES):
            with self._session_factory() as session:
                before = session.scalar(select(DatasetVersion.content_hash).where(DatasetVersion.id == 1))
                listings = _read_listings(session)
                after = session.scalar(select(DatasetVersion.content_hash).where(DatasetVersion.id == 1))
            if before == after:
                return after, listings
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


def _active_in(category: str) -> Select[tuple[Service]]:
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


def _read_listings(session: Session) -> list[Listing]:
    """All active services, their phones, categories, areas and their organization's points."""
    shared: dict[str, str] = {}

    def share(value: str | None) -> str | None:
        # Sources, organization names and descriptions repeat across services: keep one copy of each.
        return None if value is None else shared.setdefault(value, value)

    phones: dict[str, list[Phone]] = {}
    for service_id, number, display, kind in session.execute(
        select(PhoneRow.service_id, PhoneRow.number, PhoneRow.display, PhoneRow.type)
        .join(Service, Service.id == PhoneRow.service_id)
        .where(Service.status == "active")
        .order_by(PhoneRow.service_id, PhoneRow.position, PhoneRow.id)
    ):
        phones.setdefault(service_id, []).append(Phone(number=number, display=display, kind=share(kind) or "voice"))
    categories: dict[str, list[str]] = {}
    for service_id, code in session.execute(
        select(ServiceAttribute.service_id, ServiceAttribute.taxonomy_term_code)
        .join(Service, Service.id == ServiceAttribute.service_id)
        .where(Service.status == "active")
        .order_by(ServiceAttribute.service_id, ServiceAttribute.position)
    ):
        categories.setdefault(service_id, []).append(share(code) or code)
    areas: dict[str, list[Area]] = {}
    for service_id, extent, state, county_name, fips in session.execute(
        select(ServiceArea.service_id, ServiceArea.extent, ServiceArea.state, ServiceArea.county_name, ServiceArea.county_fips)
        .join(Service, Service.id == ServiceArea.service_id)
        .where(Service.status == "active")
        .order_by(ServiceArea.service_id, ServiceArea.id)
    ):
        areas.setdefault(service_id, []).append(Area(extent, share(state), share(county_name), fips))
    points: dict[str, list[tuple[float, float]]] = {}
    for organization_id, latitude, longitude in session.execute(
        select(Location.organization_id, Location.latitude, Location.longitude)
        .where(Location.latitude.is_not(None), Location.longitude.is_not(None))
        .order_by(Location.organization_id, Location.id)
    ):
        points.setdefault(organization_id, []).append((float(latitude), float(longitude)))
    category_tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
    listings = []
    for row in session.execute(
        select(
            Service.id, Service.name, Organization.name, Service.url, Service.description,
            Service.text_instructions, Service.source, Service.organization_id,
        )
        .join(Organization, Organization.id == Service.organization_id)
        .where(Service.status == "active")
        .order_by(Service.id)
    ):
        service_id, name, org_name, url, description, text_instructions, source, organization_id = row
        service_areas = tuple(areas.get(service_id, ()))
        cats = tuple(categories.get(service_id, ()))
        resource = Resource(
            id=service_id,
            name=name,
            organization=share(org_name) or "",
            phones=tuple(phones.get(service_id, ())),
            categories=category_tuples.setdefault(cats, cats),
            url=share(url),
            description=share(description),
            text_instructions=share(text_instructions),
            source=share(source) or "",
            national=any(a.extent == "national" for a in service_areas),
        )
        listings.append(Listing(resource, service_areas, tuple(points.get(organization_id, ()))))
    return listings
