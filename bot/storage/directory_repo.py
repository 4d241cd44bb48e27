"""`SqlDirectory`: the domain's `Directory` port answered from the SQL directory tables.

Each call opens its own short session, runs one query for the matching services (plus a fixed number of
`selectinload` queries for their phones, categories and areas) and returns frozen `Resource` values, so nothing
lazy-loads after the session is gone. Only services with status `active` are ever returned.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.core.directory import County, Phone, Resource
from bot.storage.models import Service, ServiceArea, ServiceAttribute

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
