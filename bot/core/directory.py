"""What the domain knows about resources, and the port through which it asks for them.

The storage layer implements `Directory`; the engine only sees these frozen values.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from typing import Protocol

_LETTER = re.compile(r"[^\W\d_]")  # a letter, as str.isalpha() means it


@dataclass(frozen=True)
class County:
    """A US county, named as people write it ("Volusia County", "FL")."""

    name: str
    state: str
    fips: str | None = None

    @property
    def key(self) -> str:
        """Stable identity used across the gazetteer and the directory: `FL:volusia county`."""
        return f"{self.state}:{self.name.lower()}"

    @property
    def label(self) -> str:
        return f"{self.name}, {self.state}"


@dataclass(frozen=True, slots=True)
class Phone:
    """A dialable number as E.164 digits and as the provider prints it (letters kept)."""

    number: str
    display: str
    kind: str = "voice"

    @property
    def digits(self) -> str:
        """National digits for reading aloud or dialling: `3867777337`."""
        raw = "".join(ch for ch in self.number if ch.isdigit())
        return raw[1:] if len(raw) == 11 and raw.startswith("1") else raw

    @property
    def text(self) -> str:
        """How a number appears in a text: the provider's form, with digits when it spells a word."""
        if _LETTER.search(self.display) and "(" not in self.display.split("-")[-1]:
            d = self.digits
            return f"{self.display} ({d[0:3]}-{d[3:6]}-{d[6:]})" if len(d) == 10 else self.display
        return self.display


@dataclass(frozen=True, slots=True)
class Resource:
    """One active service as offered to a person: who, how to reach them, where the fact came from.

    `miles` is the distance from the person's ZIP code when a search by ZIP measured it; `miles_approx` says it
    was measured to the centre of the service's county because the service has no address.
    """

    id: str
    name: str
    organization: str
    phones: tuple[Phone, ...]
    categories: tuple[str, ...]
    url: str | None = None
    description: str | None = None
    text_instructions: str | None = None
    source: str = ""
    national: bool = False
    miles: float | None = None
    miles_approx: bool = False

    def at(self, miles: float, approx: bool = False) -> Resource:
        """This resource with a distance from the person (built as `new_resource` does: a search makes dozens)."""
        return new_resource(
            self.id, self.name, self.organization, self.phones, self.categories, self.url, self.description,
            self.text_instructions, self.source, self.national, miles, approx,
        )


# The slots' own setters: a frozen dataclass's __init__ sets each field through object.__setattr__, which costs
# twice as much, and a ZIP search builds a dozen Resources.
(_set_id, _set_name, _set_organization, _set_phones, _set_categories, _set_url, _set_description,
 _set_text_instructions, _set_source, _set_national, _set_miles, _set_miles_approx) = (
    Resource.__dict__[name].__set__ for name in Resource.__dataclass_fields__
)


def new_resource(
    id: str, name: str, organization: str, phones: tuple[Phone, ...], categories: tuple[str, ...],
    url: str | None, description: str | None, text_instructions: str | None, source: str, national: bool,
    miles: float | None = None, miles_approx: bool = False,
) -> Resource:
    """`Resource(...)` with every field given, at half the cost (for the directory index's lookups)."""
    r = object.__new__(Resource)
    _set_id(r, id)
    _set_name(r, name)
    _set_organization(r, organization)
    _set_phones(r, phones)
    _set_categories(r, categories)
    _set_url(r, url)
    _set_description(r, description)
    _set_text_instructions(r, text_instructions)
    _set_source(r, source)
    _set_national(r, national)
    _set_miles(r, miles)
    _set_miles_approx(r, miles_approx)
    return r


_set_number, _set_display, _set_kind = (Phone.__dict__[name].__set__ for name in Phone.__dataclass_fields__)


def new_phone(number: str, display: str, kind: str) -> Phone:
    """`Phone(...)` with every field given, at two thirds of the cost (for the directory index's lookups)."""
    p = object.__new__(Phone)
    _set_number(p, number)
    _set_display(p, display)
    _set_kind(p, kind)
    return p


Point = tuple[float, float]
"""Latitude and longitude in degrees."""


@dataclass(frozen=True)
class Nearby:
    """The answer to a search around a point: the county's services first, then the others around it."""

    in_county: tuple[Resource, ...]
    around: tuple[Resource, ...]


class Directory(Protocol):
    """Read access to the resource store, as the domain needs it."""

    def services_in_county(self, county: County, category: str) -> list[Resource]:
        """Active services whose service area covers the county (local and statewide) in a category."""
        ...

    def national_services(self, category: str) -> list[Resource]:
        """Active services with a national service area in a category."""
        ...

    def counties_served(self, category: str) -> Set[str]:
        """Keys (`County.key`) of the counties that have at least one local service in a category."""
        ...

    def services_near(
        self, county: County, origin: Point, category: str, radius_miles: float, limit: int
    ) -> Nearby:
        """Services for someone at `origin` in `county`: the county's own (the `limit` nearest first, then those
        without an address, then statewide ones), and up to `limit` others within `radius_miles`, nearest first,
        each with its distance where it is known."""
        ...

    def counties_near(self, origin: Point, category: str, radius_miles: float, limit: int) -> list[tuple[str, float]]:
        """Keys of the `limit` counties nearest to `origin` (within the radius) with a local service in a category,
        with their distance in miles, nearest first."""
        ...

