"""Read and validate the directory data files that admins edit (`data/categories.yaml`, `data/resources.yaml`).

load -> validate -> frozen dataclasses, in the manner of a flow loader: nothing downstream ever sees raw YAML.
The YAML is parsed as YAML 1.2 by ruamel's round-trip loader, which builds only plain mappings, lists and
scalars (no arbitrary objects) and keeps the line of every node, so `yes`, `no`, `on` and `off` stay strings and
every problem can be reported as `path:line: message`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from bot.core.directory_index import Listing, to_listing

CATEGORIES_FILE = "categories.yaml"
RESOURCES_FILE = "resources.yaml"
DATA_FILES = (CATEGORIES_FILE, RESOURCES_FILE)

# Bump when the meaning of the files changes, so existing databases reload even if the bytes did not change.
FORMAT_VERSION = "1"

SERVICE_STATUSES = ("active", "inactive")
PHONE_TYPES = ("voice", "text")

# USPS codes of the states, DC and territories, with their FIPS state codes (the first two digits of a county FIPS).
STATE_FIPS = {
    "AL": "01", "AK": "02", "AZ": "04", "AR": "05", "CA": "06", "CO": "08", "CT": "09", "DE": "10", "DC": "11",
    "FL": "12", "GA": "13", "HI": "15", "ID": "16", "IL": "17", "IN": "18", "IA": "19", "KS": "20", "KY": "21",
    "LA": "22", "ME": "23", "MD": "24", "MA": "25", "MI": "26", "MN": "27", "MS": "28", "MO": "29", "MT": "30",
    "NE": "31", "NV": "32", "NH": "33", "NJ": "34", "NM": "35", "NY": "36", "NC": "37", "ND": "38", "OH": "39",
    "OK": "40", "OR": "41", "PA": "42", "RI": "44", "SC": "45", "SD": "46", "TN": "47", "TX": "48", "UT": "49",
    "VT": "50", "VA": "51", "WA": "53", "WV": "54", "WI": "55", "WY": "56", "AS": "60", "GU": "66", "MP": "69",
    "PR": "72", "VI": "78",
}  # fmt: skip

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SHORT_CODE = re.compile(r"^[0-9]{3,6}$")
_FIPS = re.compile(r"^[0-9]{5}$")
_KEYPAD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "22233344455566677778889999" * 2,
)


class DataFileError(ValueError):
    """A data file is unreadable or breaks a rule; `str()` is `path:line: message`."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


@dataclass(frozen=True)
class Category:
    """One taxonomy term: a stable code and its English name."""

    code: str
    name: str


@dataclass(frozen=True)
class PhoneEntry:
    """A number as dialled (E.164, or a 3-6 digit short code) and as the provider prints it."""

    number: str
    display: str
    type: str = "voice"


@dataclass(frozen=True)
class ServiceAreaEntry:
    """Where a service is offered: one county, one whole state, or the whole country."""

    extent: str
    state: str | None = None
    county: str | None = None
    fips: str | None = None


@dataclass(frozen=True)
class ServiceEntry:
    """One service of an organization, with its provenance already resolved."""

    id: str
    name: str
    description: str | None
    status: str
    categories: tuple[str, ...]
    phones: tuple[PhoneEntry, ...]
    service_areas: tuple[ServiceAreaEntry, ...]
    source: str
    assured_date: date
    url: str | None = None
    text_instructions: str | None = None


@dataclass(frozen=True)
class LocationEntry:
    """A place where an organization is (HSDS `location`): an address and its coordinates."""

    id: str
    latitude: float
    longitude: float
    name: str | None = None
    address_1: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class OrganizationEntry:
    """An organization and the services it offers.

    `synthetic` marks generated benchmark data (`python -m bench.synthetic`): such a directory is refused by
    `init_database` unless `ALLOW_SYNTHETIC_DATA` is set, so fictional numbers never reach a person.
    """

    id: str
    name: str
    source: str
    assured_date: date
    services: tuple[ServiceEntry, ...]
    website: str | None = None
    description: str | None = None
    locations: tuple[LocationEntry, ...] = ()
    synthetic: bool = False


@dataclass(frozen=True)
class Dataset:
    """Everything in the data folder, validated, plus a hash of the files it came from."""

    categories: tuple[Category, ...]
    organizations: tuple[OrganizationEntry, ...]
    content_hash: str

    @property
    def services(self) -> tuple[ServiceEntry, ...]:
        """All services of all organizations, in file order."""
        return tuple(s for org in self.organizations for s in org.services)

    @property
    def synthetic(self) -> bool:
        """True when any organization is generated benchmark data."""
        return any(org.synthetic for org in self.organizations)


def content_hash(data_dir: Path) -> str:
    """SHA-256 over the data files' bytes (and the format version); missing files raise `DataFileError`."""
    digest = hashlib.sha256(f"helpline-data-format:{FORMAT_VERSION}\0".encode())
    for name in DATA_FILES:
        path = data_dir / name
        # Read in chunks: a national resources.yaml is tens of megabytes, and every web worker hashes it at start.
        try:
            with path.open("rb") as data:
                size = os.fstat(data.fileno()).st_size
                digest.update(f"{name}\0{size}\0".encode())
                read = 0
                while chunk := data.read(_HASH_CHUNK):
                    digest.update(chunk)
                    read += len(chunk)
        except OSError as exc:
            raise DataFileError(path, 0, f"cannot read file: {exc.strerror or exc}") from exc
        if read != size:
            raise DataFileError(path, 0, "the file changed while it was read")
    return digest.hexdigest()


_HASH_CHUNK = 1 << 20


def load_dataset(data_dir: Path) -> Dataset:
    """Read, validate and freeze `categories.yaml` and `resources.yaml` from a data folder."""
    data_dir = Path(data_dir)
    digest = content_hash(data_dir)
    categories = _read_categories(data_dir / CATEGORIES_FILE)
    organizations = _read_resources(data_dir / RESOURCES_FILE, {c.code for c in categories})
    return Dataset(categories=categories, organizations=organizations, content_hash=digest)


def collect_dataset(data_dir: Path) -> tuple[Dataset | None, list[DataFileError]]:
    """Like `load_dataset`, but go on past a broken service or organization to report every one of them."""
    data_dir = Path(data_dir)
    try:
        digest = content_hash(data_dir)
        categories = _read_categories(data_dir / CATEGORIES_FILE)
    except DataFileError as exc:
        return None, [exc]
    errors: list[DataFileError] = []
    try:
        organizations = _read_resources(data_dir / RESOURCES_FILE, {c.code for c in categories}, errors)
    except DataFileError as exc:
        errors.append(exc)
    if errors:
        return None, errors
    return Dataset(categories=categories, organizations=organizations, content_hash=digest), []


def _parse(path: Path) -> Any:
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(path, 0, f"cannot read file: {exc}") from exc
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        message = f"invalid YAML: {exc.problem or exc.context}"
        if exc.problem and exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        raise DataFileError(path, line, message) from exc


class _Node:
    """A mapping from the file plus what is needed to point at any of its keys."""

    def __init__(self, path: Path, data: CommentedMap, what: str) -> None:
        self.path = path
        self.data = data
        self.what = what

    def line(self, key: str | None = None) -> int:
        if key is not None and key in self.data:
            return int(self.data.lc.value(key)[0]) + 1
        return int(self.data.lc.line) + 1

    def key_line(self, key: str) -> int:
        return int(self.data.lc.key(key)[0]) + 1

    def error(self, message: str, key: str | None = None) -> DataFileError:
        return DataFileError(self.path, self.line(key), f"{self.what}: {message}")

    def only(self, required: set[str], optional: set[str]) -> None:
        for key in self.data:
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                raise DataFileError(
                    self.path, self.key_line(key), f"{self.what}: unknown field {key!r} (allowed: {allowed})"
                )
        for key in sorted(required):
            if key not in self.data:
                raise self.error(f"missing required field {key!r}")

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(f"missing required field {key!r}", key)
            return None
        if not isinstance(value, str):
            raise self.error(f"{key!r} must be text in quotes, got {_describe(value)}", key)
        value = value.strip()
        if not value:
            raise self.error(f"{key!r} must not be empty", key)
        return value

    def req(self, key: str) -> str:
        value = self.text(key)
        assert value is not None
        return value

    def slug(self, key: str) -> str:
        value = self.req(key)
        if not _SLUG.match(value):
            raise self.error(f"{key!r} must be lowercase letters, digits and dashes, got {value!r}", key)
        return value

    def url(self, key: str, *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is not None and not _is_url(value):
            raise self.error(f"{key!r} must be a full http(s) URL, got {value!r}", key)
        return value

    def source(self, key: str, default: str | None) -> str:
        value = self.text(key, required=default is None)
        if value is None:
            assert default is not None
            return default
        if not (_is_url(value) or value.startswith("seed:")):
            raise self.error(f"{key!r} must be an http(s) URL or a 'seed:' reference, got {value!r}", key)
        return value

    def day(self, key: str, default: date | None) -> date:
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise self.error(f"missing required field {key!r}", key)
            return default
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.error(f"{key!r} must be an ISO date like 2026-11-27, got {_describe(value)}", key)

    def items(self, key: str, *, required: bool) -> Iterator[tuple[Any, int]]:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(f"missing required field {key!r}", key)
            return
        if not isinstance(value, CommentedSeq):
            raise self.error(f"{key!r} must be a list, got {_describe(value)}", key)
        for index, item in enumerate(value):
            yield item, int(value.lc.item(index)[0]) + 1


def _describe(value: object) -> str:
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return repr(value) if isinstance(value, str) else f"{type(value).__name__} {value!r}"


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def _mapping(path: Path, value: Any, line: int, what: str) -> _Node:
    if not isinstance(value, CommentedMap):
        raise DataFileError(path, line, f"{what}: expected a mapping of fields, got {_describe(value)}")
    return _Node(path, value, what)


def _read_categories(path: Path) -> tuple[Category, ...]:
    doc = _parse(path)
    if not isinstance(doc, CommentedMap) or not doc:
        raise DataFileError(path, 1, "expected a mapping of category code -> English name")
    node = _Node(path, doc, "categories")
    categories = []
    for code in doc:
        if not isinstance(code, str) or not _SLUG.match(code):
            raise DataFileError(path, node.key_line(code), f"category code must be a lowercase slug, got {code!r}")
        name = doc[code]
        if not isinstance(name, str) or not name.strip():
            raise DataFileError(path, node.line(code), f"category {code!r}: name must be text, got {_describe(name)}")
        categories.append(Category(code=code, name=name.strip()))
    return tuple(categories)


def _read_resources(
    path: Path, known_categories: set[str], errors: list[DataFileError] | None = None
) -> tuple[OrganizationEntry, ...]:
    doc = _parse(path)
    if not isinstance(doc, CommentedSeq):
        raise DataFileError(path, 1, f"expected a list of organizations, got {_describe(doc)}")
    org_ids: dict[str, int] = {}
    service_ids: dict[str, int] = {}
    location_ids: dict[str, int] = {}
    organizations = []
    for index, item in enumerate(doc):
        try:
            organizations.append(
                _read_organization(path, doc, index, item, known_categories, org_ids, service_ids, location_ids, errors)
            )
        except DataFileError as exc:
            if errors is None:
                raise
            errors.append(exc)
    return tuple(organizations)


def _read_organization(
    path: Path,
    doc: CommentedSeq,
    index: int,
    item: Any,
    known_categories: set[str],
    org_ids: dict[str, int],
    service_ids: dict[str, int],
    location_ids: dict[str, int],
    errors: list[DataFileError] | None,
) -> OrganizationEntry:
    line = int(doc.lc.item(index)[0]) + 1
    org = _mapping(path, item, line, f"organization #{index + 1}")
    org_id = org.slug("id")
    org.what = f"organization {org_id!r}"
    if org_id in org_ids:
        raise org.error(f"duplicate organization id (first used on line {org_ids[org_id]})", "id")
    org_ids[org_id] = org.line("id")
    org.only(
        {"id", "name", "source", "assured_date", "services"}, {"website", "description", "locations", "synthetic"}
    )
    synthetic = org.data.get("synthetic", False)
    if synthetic is not True and synthetic is not False:
        raise org.error(f"'synthetic' must be true or false, got {_describe(synthetic)}", "synthetic")
    locations: list[LocationEntry] = []
    for l_item, l_line in org.items("locations", required=False):
        location = _read_location(path, l_item, l_line, org.what, f"{org_id}-location-{len(locations) + 1}")
        if location.id in location_ids:
            raise DataFileError(
                path, l_line, f"{org.what}: duplicate location id {location.id!r} (first used on line "
                f"{location_ids[location.id]})"
            )
        location_ids[location.id] = l_line
        locations.append(location)
    source = org.source("source", None)
    assured = org.day("assured_date", None)
    services = []
    broken = 0
    for s_item, s_line in org.items("services", required=True):
        try:
            service = _read_service(path, s_item, s_line, source, assured, known_categories)
            if service.id in service_ids:
                raise DataFileError(
                    path,
                    s_line,
                    f"service {service.id!r}: duplicate service id (first used on line {service_ids[service.id]})",
                )
        except DataFileError as exc:
            if errors is None:
                raise
            errors.append(exc)
            broken += 1
            continue
        service_ids[service.id] = s_line
        services.append(service)
    if not services and not broken:
        raise org.error("has no services", "services")
    return OrganizationEntry(
        id=org_id,
        name=org.req("name"),
        source=source,
        assured_date=assured,
        services=tuple(services),
        website=org.url("website"),
        description=org.text("description", required=False),
        locations=tuple(locations),
        synthetic=synthetic,
    )


def _read_location(path: Path, item: Any, line: int, owner: str, default_id: str) -> LocationEntry:
    node = _mapping(path, item, line, f"{owner}: location")
    node.only({"latitude", "longitude"}, {"id", "name", "address_1", "city", "state", "postal_code"})
    location_id = node.slug("id") if "id" in node.data else default_id
    state = node.text("state", required=False)
    if state is not None and state not in STATE_FIPS:
        raise node.error(f"state must be a two-letter USPS code like FL, got {state!r}", "state")
    return LocationEntry(
        id=location_id,
        latitude=_coordinate(node, "latitude", 90.0),
        longitude=_coordinate(node, "longitude", 180.0),
        name=node.text("name", required=False),
        address_1=node.text("address_1", required=False),
        city=node.text("city", required=False),
        state=state,
        postal_code=node.text("postal_code", required=False),
    )


def _coordinate(node: _Node, key: str, limit: float) -> float:
    value = node.data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not -limit <= float(value) <= limit:
        problem = f"{key!r} must be a number of degrees between -{limit:g} and {limit:g}, got {_describe(value)}"
        raise node.error(problem, key)
    return float(value)


def _read_service(
    path: Path, item: Any, line: int, org_source: str, org_assured: date, known_categories: set[str]
) -> ServiceEntry:
    node = _mapping(path, item, line, "service")
    node.what = f"service {node.slug('id')!r}"
    node.only(
        {"id", "name", "status", "categories", "service_areas"},
        {"description", "phones", "text_instructions", "url", "source", "assured_date"},
    )
    status = node.req("status")
    if status not in SERVICE_STATUSES:
        raise node.error(f"status must be one of {', '.join(SERVICE_STATUSES)}, got {status!r}", "status")

    categories: list[str] = []
    for code, c_line in node.items("categories", required=True):
        if not isinstance(code, str) or code not in known_categories:
            raise DataFileError(path, c_line, f"{node.what}: unknown category {code!r} (see {CATEGORIES_FILE})")
        if code in categories:
            raise DataFileError(path, c_line, f"{node.what}: category {code!r} listed twice")
        categories.append(code)
    if not categories:
        raise node.error("needs at least one category", "categories")

    phones: list[PhoneEntry] = []
    for p_item, p_line in node.items("phones", required=False):
        phone = _read_phone(path, p_item, p_line, node.what)
        if any(p.number == phone.number and p.type == phone.type for p in phones):
            raise DataFileError(path, p_line, f"{node.what}: phone {phone.number} ({phone.type}) listed twice")
        phones.append(phone)

    areas = [
        _read_area(path, a_item, a_line, node.what) for a_item, a_line in node.items("service_areas", required=True)
    ]
    if not areas:
        raise node.error("needs at least one service area", "service_areas")
    if len(set(areas)) != len(areas):
        raise node.error("a service area is listed twice", "service_areas")

    return ServiceEntry(
        id=node.slug("id"),
        name=node.req("name"),
        description=node.text("description", required=False),
        status=status,
        categories=tuple(categories),
        phones=tuple(phones),
        service_areas=tuple(areas),
        source=node.source("source", org_source),
        assured_date=node.day("assured_date", org_assured),
        url=node.url("url"),
        text_instructions=node.text("text_instructions", required=False),
    )


def _read_phone(path: Path, item: Any, line: int, owner: str) -> PhoneEntry:
    node = _mapping(path, item, line, f"{owner}: phone")
    node.only({"number", "display"}, {"type"})
    number = node.req("number")
    display = node.req("display")
    kind = node.text("type", required=False) or "voice"
    if kind not in PHONE_TYPES:
        raise node.error(f"type must be one of {', '.join(PHONE_TYPES)}, got {kind!r}", "type")
    if _SHORT_CODE.match(number):
        national = number
    else:
        if not number.startswith("+"):
            raise node.error(
                f'number must be E.164 like "+13865551234" or a 3-6 digit short code, got {number!r}', "number"
            )
        try:
            parsed = phonenumbers.parse(number, None)
        except phonenumbers.NumberParseException as exc:
            raise node.error(f"number {number!r} is not a phone number: {exc}", "number") from exc
        if not phonenumbers.is_valid_number(parsed):
            raise node.error(f"number {number!r} is not a valid phone number", "number")
        canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if canonical != number:
            raise node.error(f"number {number!r} must be written in E.164 form: {canonical!r}", "number")
        national = phonenumbers.national_significant_number(parsed)
    if national not in display.translate(_KEYPAD).translate({ord(c): None for c in " ()-.+/"}):
        raise node.error(f"display {display!r} does not spell the number {number!r}", "display")
    return PhoneEntry(number=number, display=display, type=kind)


def _read_area(path: Path, item: Any, line: int, owner: str) -> ServiceAreaEntry:
    node = _mapping(path, item, line, f"{owner}: service area")
    keys = set(node.data)
    if "national" in keys:
        node.only({"national"}, set())
        if node.data["national"] is not True:
            raise node.error("'national' must be true (omit it for local areas)", "national")
        return ServiceAreaEntry(extent="national")
    node.only({"state"}, {"county", "fips"})
    state = node.req("state")
    if state not in STATE_FIPS:
        raise node.error(f"state must be a two-letter USPS code like FL, got {state!r}", "state")
    county = node.text("county", required=False)
    fips = node.text("fips", required=False)
    if county is None:
        if fips is not None:
            raise node.error("'fips' needs a 'county'", "fips")
        return ServiceAreaEntry(extent="state", state=state)
    if fips is not None:
        if not _FIPS.match(fips):
            raise node.error(f"fips must be the 5-digit county code in quotes, got {fips!r}", "fips")
        if fips[:2] != STATE_FIPS[state]:
            raise node.error(f"fips {fips!r} is not in {state} (state code {STATE_FIPS[state]})", "fips")
    return ServiceAreaEntry(extent="county", state=state, county=county, fips=fips)


def dataset_listings(dataset: Dataset) -> Iterator[Listing]:
    """The active services of data files, mapped as the database's rows are (`to_listing`)."""
    for org in dataset.organizations:
        points = [(loc.latitude, loc.longitude) for loc in org.locations]
        for s in org.services:
            if s.status == "active":
                yield to_listing(
                    (s.id, s.name, org.name, s.url, s.description, s.text_instructions, s.source),
                    ((p.number, p.display, p.type) for p in s.phones),
                    s.categories,
                    ((a.extent, a.state, a.county, a.fips) for a in s.service_areas),
                    points,
                )
