"""What the flow check needs to know about the loaded directory: its longest listings and served counties.

The segment check measures a results reply with the longest listing a person could get; these queries
find the few candidates without reading the whole directory, so they stay cheap on a national one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.core.directory import Phone, Resource
from bot.storage.models import DatasetVersion, Service, ServiceArea

CANDIDATES = 25


def longest_listings(session_factory: Callable[[], Session], limit: int = CANDIDATES) -> list[Resource]:
    """The active services with the longest name, instructions and address, as `Resource`s."""
    size = (
        func.length(Service.name)
        + func.coalesce(func.length(Service.text_instructions), 0)
        + func.coalesce(func.length(Service.url), 0)
    )
    stmt = (
        select(Service)
        .where(Service.status == "active")
        .order_by(size.desc(), Service.id)
        .limit(limit)
        .options(joinedload(Service.organization), selectinload(Service.phones), selectinload(Service.service_areas))
    )
    with session_factory() as session:
        return [
            Resource(
                id=s.id,
                name=s.name,
                organization=s.organization.name,
                phones=tuple(Phone(p.number, p.display, p.type) for p in s.phones),
                categories=(),
                url=s.url,
                text_instructions=s.text_instructions,
                source=s.source,
                national=any(a.extent == "national" for a in s.service_areas),
            )
            for s in session.scalars(stmt).unique()
        ]


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
    """The content hash of the data files the directory was last loaded from."""
    with session_factory() as session:
        row = session.get(DatasetVersion, 1)
        return row.content_hash if row is not None else None
