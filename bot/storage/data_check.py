"""Deeper checks of the directory data files, beyond what the loader refuses.

`data_files` refuses what cannot be loaded (bad YAML, missing fields, malformed numbers, unknown categories).
What loads can still fail people: a county spelled so the directory never matches it ("St Johns County"
instead of "St. Johns County"), a county that does not exist in that state, the same service listed twice,
an active listing with no way to reach it, or facts nobody has checked for a year. Each finding is
`file:line: message`; stale facts are warnings (an old but sourced listing is still better served than
dropped), everything else an error.

`check_data_dir` is the whole check of a data folder, as the hot reloader applies it before loading a version
and as `helpline data check` prints it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.config import Settings
from bot.core.directory import Resource
from bot.core.flows import FlowError, flow_files, parse_flow, served_label
from bot.core.places import Gazetteer, county_alias
from bot.core.text import fold
from bot.storage.data_files import RESOURCES_FILE, Dataset, ServiceEntry, collect_dataset, dataset_listings

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem in a data file: where it is, what it is, and whether it blocks loading."""

    path: str
    line: int
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        tag = "warning: " if self.severity == WARNING else ""
        return f"{self.path}:{self.line}: {tag}{self.message}"


def check_data(
    data_dir: Path,
    places: Gazetteer,
    *,
    today: date | None = None,
    stale_days: int = 365,
    offered: Collection[str] = (),
) -> tuple[Dataset | None, list[Finding]]:
    """Load the data folder and check it; the dataset is None when it cannot be loaded at all.

    `offered` are the topics the flows offer: one with no service anywhere is an error (a menu option that leads
    to nothing), where another unused category is only a warning."""
    dataset, errors = collect_dataset(Path(data_dir))
    if dataset is None:
        return None, [Finding(str(e.path), e.line, e.message) for e in errors]
    lines = _Lines(Path(data_dir) / RESOURCES_FILE)
    findings: list[Finding] = []
    findings += _counties(dataset, places, lines)
    findings += _duplicates(dataset, lines)
    findings += _reachable(dataset, lines)
    findings += _staleness(dataset, lines, today or date.today(), stale_days)
    findings += _unused_categories(dataset, Path(data_dir), set(offered))
    return dataset, sorted(set(findings), key=lambda f: (f.path, f.line, f.message))


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that must stop a load (errors, not warnings)."""
    return [f for f in findings if f.severity == ERROR]


@dataclass
class DataReport:
    """What checking a data folder found; `dataset` is set when it loaded."""

    path: Path
    dataset: Dataset | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return blocking(self.findings)

    @property
    def ok(self) -> bool:
        return self.dataset is not None and not self.errors


def check_data_dir(data_dir: Path, settings: Settings, *, places: Gazetteer, today: date | None = None) -> DataReport:
    """Check the data folder (categories.yaml and resources.yaml) against the flows in `FLOWS_DIR`."""
    dataset, findings = check_data(
        Path(data_dir), places, today=today, stale_days=settings.data_stale_days, offered=offered_topics(settings)
    )
    return DataReport(Path(data_dir), dataset, findings)


def offered_topics(settings: Settings) -> set[str]:
    """The topics the flows in `FLOWS_DIR` offer (of those that load: a broken flow is its own check's problem)."""
    topics: set[str] = set()
    for path in flow_files(settings.flows_dir):
        try:
            topics.update(parse_flow(path.read_text(encoding="utf-8"), str(path)).topics)
        except (OSError, UnicodeDecodeError, FlowError):
            continue
    return topics


def to_resources(dataset: Dataset) -> list[Resource]:
    """The active services of a dataset as the engine sees them."""
    return [listing.resource for listing in dataset_listings(dataset)]


def served_labels(dataset: Dataset, places: Gazetteer) -> tuple[str, ...]:
    """Labels of the counties that have a local listing ("Volusia County, FL")."""
    labels = set()
    for s in dataset.services:
        for a in s.service_areas:
            if a.extent == "county" and a.county and a.state:
                labels.add(served_label(places, a.state, a.county))
    return tuple(sorted(labels))


class _Lines:
    """Line numbers of organizations, services and their parts in resources.yaml, by id."""

    def __init__(self, path: Path):
        self.path = str(path)
        self.org: dict[str, int] = {}
        self.service: dict[str, int] = {}
        self.fields: dict[tuple[str, str], int] = {}
        self.owner: dict[str, str] = {}
        self.areas: dict[str, list[int]] = defaultdict(list)
        self.phones: dict[str, list[int]] = defaultdict(list)
        yaml = YAML(typ="rt")
        yaml.version = (1, 2)
        doc = yaml.load(path.read_text(encoding="utf-8"))
        for org, org_line in _items(doc):
            if not isinstance(org, CommentedMap):
                continue
            org_id = str(org.get("id"))
            self.org[org_id] = org_line
            self._fields(org, org_id, org_line)
            for service, s_line in _items(org.get("services")):
                if not isinstance(service, CommentedMap):
                    continue
                sid = str(service.get("id"))
                self.service[sid] = s_line
                self.owner[sid] = org_id
                self._fields(service, sid, s_line)
                self.areas[sid] = [line for _, line in _items(service.get("service_areas"))]
                self.phones[sid] = [line for _, line in _items(service.get("phones"))]

    def _fields(self, node: CommentedMap, owner: str, fallback: int) -> None:
        for key in node:
            try:
                self.fields[(owner, str(key))] = int(node.lc.key(key)[0]) + 1
            except (KeyError, TypeError):
                self.fields[(owner, str(key))] = fallback

    def at(self, owner: str, key: str | None = None) -> int:
        if key is not None and (owner, key) in self.fields:
            return self.fields[(owner, key)]
        if key is not None and owner in self.owner and (self.owner[owner], key) in self.fields:
            return self.fields[(self.owner[owner], key)]  # inherited from its organization
        return self.service.get(owner) or self.org.get(owner) or 1


def _items(node: Any) -> Iterator[tuple[Any, int]]:
    if isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            yield item, int(node.lc.item(index)[0]) + 1


def _counties(dataset: Dataset, places: Gazetteer, lines: _Lines) -> Iterator[Finding]:
    by_alias: dict[str, list[str]] = defaultdict(list)
    for key, county in places.counties.items():
        by_alias[county_alias(county.name)].append(key)
    for service in dataset.services:
        area_lines = lines.areas.get(service.id, [])
        for i, area in enumerate(service.service_areas):
            if area.extent != "county" or not area.county or not area.state:
                continue
            line = area_lines[i] if i < len(area_lines) else lines.at(service.id)
            exact = places.counties.get(f"{area.state}:{area.county.lower()}")
            if exact is not None:
                continue
            same = [places.counties[k] for k in by_alias.get(county_alias(area.county), [])]
            here = [c for c in same if c.state == area.state]
            if here:
                yield Finding(
                    lines.path,
                    line,
                    f"service {service.id!r}: county {area.county!r} is written {here[0].name!r} in the county "
                    f"table, so people in {here[0].label} would never be shown this service; write it that way",
                )
            elif same:
                where = ", ".join(c.label for c in same[:3])
                yield Finding(
                    lines.path,
                    line,
                    f"service {service.id!r}: there is no {area.county!r} in {area.state} (there is {where}); "
                    f"check the state",
                )
            else:
                yield Finding(
                    lines.path, line, f"service {service.id!r}: unknown county {area.county!r} in {area.state}"
                )


def _duplicates(dataset: Dataset, lines: _Lines) -> Iterator[Finding]:
    orgs: dict[str, str] = {}
    for org in dataset.organizations:
        key = fold(org.name)
        if key in orgs:
            yield Finding(
                lines.path,
                lines.at(org.id),
                f"organization {org.id!r} looks like a duplicate of {orgs[key]!r} "
                f"(line {lines.at(orgs[key])}): same name",
            )
        else:
            orgs[key] = org.id
    seen: dict[tuple[Any, ...], str] = {}
    for service in dataset.services:
        phones = frozenset((p.number, p.type) for p in service.phones)
        areas = frozenset(service.service_areas)
        signatures = [(fold(service.name), phones, areas)] + ([("phones", phones, areas)] if phones else [])
        for sig in signatures:
            if sig in seen and seen[sig] != service.id:
                first = seen[sig]
                why = "same name, numbers and areas" if sig[0] != "phones" else "same numbers and areas"
                yield Finding(
                    lines.path,
                    lines.at(service.id),
                    f"service {service.id!r} looks like a duplicate of {first!r} (line {lines.at(first)}): {why}",
                )
                break
            seen.setdefault(sig, service.id)


def _reachable(dataset: Dataset, lines: _Lines) -> Iterator[Finding]:
    for service in dataset.services:
        if service.status != "active":
            continue
        if not service.phones and not service.url and not service.text_instructions:
            yield Finding(
                lines.path,
                lines.at(service.id),
                f"service {service.id!r} is active but has no phone, url or text_instructions: people would get "
                f"its name and no way to reach it",
            )


def _staleness(dataset: Dataset, lines: _Lines, today: date, stale_days: int) -> Iterator[Finding]:
    limit = today - timedelta(days=stale_days)
    for org in dataset.organizations:
        for service in org.services:
            yield from _stale(service, lines, today, limit, stale_days)


def _stale(service: ServiceEntry, lines: _Lines, today: date, limit: date, stale_days: int) -> Iterator[Finding]:
    line = lines.at(service.id, "assured_date")
    if service.assured_date > today:
        yield Finding(lines.path, line, f"service {service.id!r}: assured_date {service.assured_date} is in the future")
    elif service.assured_date < limit:
        age = (today - service.assured_date).days
        yield Finding(
            lines.path,
            line,
            f"service {service.id!r} was last checked on {service.assured_date} ({age} days ago; the limit is "
            f"{stale_days}): confirm its facts with the source and update assured_date",
            WARNING,
        )


def _unused_categories(dataset: Dataset, data_dir: Path, offered: set[str]) -> Iterator[Finding]:
    used = {code for s in dataset.services if s.status == "active" for code in s.categories}
    path = data_dir / "categories.yaml"
    yaml = YAML(typ="rt")
    doc = yaml.load(path.read_text(encoding="utf-8"))
    for category in dataset.categories:
        if category.code not in used:
            line = int(doc.lc.key(category.code)[0]) + 1 if isinstance(doc, CommentedMap) else 1
            if category.code in offered:
                yield Finding(
                    str(path), line, f"category {category.code!r} is a topic the flow offers, but no active service "
                    "has it: people who choose it would find nothing (add one that serves everywhere, such as 211)",
                )
            else:
                yield Finding(str(path), line, f"category {category.code!r} has no service", WARNING)
