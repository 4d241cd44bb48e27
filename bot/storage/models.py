"""SQLAlchemy models of the resource directory, shaped after Open Referral HSDS 3.0.

An `Organization` offers `Service`s; a service has `Phone`s, `ServiceArea`s (one county, one state, or national)
and taxonomy terms through `ServiceAttribute`. The directory tables are filled only from the data files and are
replaced as a whole when those change; `DatasetVersion` records which version of the files is loaded.
Natural string ids from the data files are primary keys; phones and areas get generated integer ids.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint names that Alembic can address on every backend."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organization(Base):
    """An organization that offers services (HSDS `organization`)."""

    __tablename__ = "organization"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(500))
    assured_date: Mapped[date] = mapped_column(Date)

    services: Mapped[list[Service]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", passive_deletes=True
    )
    locations: Mapped[list[Location]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", passive_deletes=True
    )


class Service(Base):
    """A service offered by an organization (HSDS `service`), with where the facts came from."""

    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
        Index("ix_service_status_name", "status", "name"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    text_instructions: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(500))
    assured_date: Mapped[date] = mapped_column(Date)

    organization: Mapped[Organization] = relationship(back_populates="services")
    phones: Mapped[list[Phone]] = relationship(
        back_populates="service",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Phone.position",
    )
    service_areas: Mapped[list[ServiceArea]] = relationship(
        back_populates="service", cascade="all, delete-orphan", passive_deletes=True, order_by="ServiceArea.id"
    )
    attributes: Mapped[list[ServiceAttribute]] = relationship(
        back_populates="service",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ServiceAttribute.position",
    )


class Phone(Base):
    """A number for a service (HSDS `phone`): E.164 or a short code, plus the provider's printed form."""

    __tablename__ = "phone"
    __table_args__ = (CheckConstraint("type IN ('voice', 'text')", name="type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    number: Mapped[str] = mapped_column(String(32))
    display: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16), default="voice")

    service: Mapped[Service] = relationship(back_populates="phones")


class ServiceArea(Base):
    """Where a service is offered (HSDS `service_area`): one county, one state, or the whole nation."""

    __tablename__ = "service_area"
    __table_args__ = (
        CheckConstraint("extent IN ('county', 'state', 'national')", name="extent"),
        Index("ix_service_area_state_county_name", "state", "county_name"),
        Index("ix_service_area_extent_state", "extent", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), index=True)
    extent: Mapped[str] = mapped_column(String(16))
    state: Mapped[str | None] = mapped_column(String(2))
    county_name: Mapped[str | None] = mapped_column(String(100))
    county_fips: Mapped[str | None] = mapped_column(String(5), index=True)

    service: Mapped[Service] = relationship(back_populates="service_areas")


class Location(Base):
    """A physical place of an organization (HSDS `location` with its address); none are loaded yet."""

    __tablename__ = "location"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    address_1: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(100))
    state_province: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    organization: Mapped[Organization] = relationship(back_populates="locations")


class TaxonomyTerm(Base):
    """A category of the directory's own taxonomy (HSDS `taxonomy_term`)."""

    __tablename__ = "taxonomy_term"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


class ServiceAttribute(Base):
    """Links a service to a taxonomy term (HSDS `attribute`)."""

    __tablename__ = "service_attribute"

    service_id: Mapped[str] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    taxonomy_term_code: Mapped[str] = mapped_column(
        ForeignKey("taxonomy_term.code", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    service: Mapped[Service] = relationship(back_populates="attributes")
    taxonomy_term: Mapped[TaxonomyTerm] = relationship()


class DatasetVersion(Base):
    """The one row naming the loaded version of the data files (their content hash) and when it was loaded."""

    __tablename__ = "dataset_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OptOut(Base):
    """A number that said STOP: kept (as a keyed hash) until it says START, across restarts."""

    __tablename__ = "opt_out"

    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentRecord(Base):
    """A number's latest consent change (STOP or START), with its version, so the newer change always wins.

    `version` is the change's time in microseconds since the epoch, taken when the word was read, so a change
    replayed late (taken while this database was away) cannot undo a later one. `mirrored` is False while
    Redis' copy has not been told of it (it was away): a rebuild of the copy, or the process that took the
    change, tells it and sets it True.
    """

    __tablename__ = "consent"

    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(BigInteger)
    mirrored: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
