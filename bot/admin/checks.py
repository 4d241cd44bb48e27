"""Running every check over a flows folder or a data folder, for the CLI, CI and the hot reloader alike.

One function per folder, each returning the problems as `file:line: message` values, so that what
`helpline flows check` prints is exactly what stops a reload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.admin import crisis_eval
from bot.config import Settings
from bot.core.directory import Resource
from bot.core.flow import Flow
from bot.core.flow_check import Budget, Measured, check_flow, longest_resources, segment_report
from bot.core.flow_loader import FlowError, Problem, parse_flow
from bot.core.flow_schema import schema_problems
from bot.core.places import Gazetteer, county_alias
from bot.core.safety import load_crisis
from bot.storage.data_check import Finding, blocking, check_data
from bot.storage.data_files import Dataset, dataset_listings
from bot.wiring import CRISIS_FILE, gazetteer, hotlines

FLOW_SUFFIXES = (".yaml", ".yml")


@dataclass
class FlowReport:
    """What checking one flow file found; `flow` is set when it loaded (even with problems)."""

    path: Path
    flow: Flow | None = None
    problems: list[Problem] = field(default_factory=list)
    kind: str = "flow"
    segments: list[Measured] = field(default_factory=list)
    """The worst case of every state's text in every language, as the budget check measured it."""

    @property
    def ok(self) -> bool:
        return (self.flow is not None or self.kind != "flow") and not self.problems


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


def flow_files(flows_dir: Path) -> list[Path]:
    """The flow files in a folder (not the crisis phrases, not the `tests/` transcripts)."""
    return sorted(
        p for p in Path(flows_dir).iterdir() if p.is_file() and p.suffix in FLOW_SUFFIXES and p.name != CRISIS_FILE
    )


def check_crisis_file(path: Path, statements: Path | None = crisis_eval.DEFAULT_SET) -> FlowReport:
    """The crisis phrase file loads (its own checks live in `bot.core.safety`) and, when the labelled
    statements are there, still hears them as well as it must."""
    report = FlowReport(Path(path), kind="crisis phrases")
    try:
        screen = load_crisis(Path(path))
    except FlowError as exc:
        report.problems = list(exc.problems)
        return report
    if statements is not None and Path(statements).exists():
        report.problems = crisis_eval.check(screen, Path(path), Path(statements))
    return report


def to_resources(dataset: Dataset) -> list[Resource]:
    """The active services of a dataset as the engine sees them."""
    return [listing.resource for listing in dataset_listings(dataset)]


def served_labels(dataset: Dataset, places: Gazetteer) -> tuple[str, ...]:
    """Labels of the counties that have a local listing ("Volusia County, FL")."""
    labels = set()
    for s in dataset.services:
        for a in s.service_areas:
            if a.extent == "county" and a.county and a.state:
                county = places.counties.get(f"{a.state}:{a.county.lower()}")
                labels.add(county.label if county else f"{a.county}, {a.state}")
    return tuple(sorted(labels))


def make_budget(settings: Settings, resources: Sequence[Resource], served: Iterable[str], places: Gazetteer) -> Budget:
    """The worst case the segment check measures: longest county names and listings, the real footer."""
    h = hotlines(settings)
    labels = tuple(sorted((c.label for c in places.counties.values()), key=len)[-3:])
    towns = tuple(sorted((t.label for t in places.each_town()), key=len)[-3:])
    return Budget(
        hotlines=h,
        segments=settings.sms_segment_budget,
        resources=longest_resources(resources, h),
        county_labels=labels,
        served_labels=tuple(served),
        town_labels=towns,
        county_names=frozenset(county_alias(c.name) for c in places.counties.values()),
    )


def load_and_check(
    path: Path, text: str, budget: Budget | None, categories: set[str] | None
) -> tuple[Flow | None, list[Problem]]:
    """Schema, loader and every deeper check over one flow file's text; the flow is None if it does not load."""
    schema = schema_problems(text, str(path))
    flow: Flow | None = None
    try:
        flow = parse_flow(text, str(path))
        problems = check_flow(flow, budget, categories)
    except FlowError as exc:
        problems = list(exc.problems)
    except Exception as exc:  # noqa: BLE001 - a loader crash is a refusal, never an outage
        problems = [Problem(str(path), 1, f"cannot be loaded: {type(exc).__name__}: {exc}")] if not schema else []
    # The loader's words are the more specific; the schema adds what it did not see.
    taken = {p.line for p in problems}
    problems += [p for p in schema if p.line not in taken]
    return flow, sorted(set(problems), key=lambda p: (p.line, p.message))


def check_flow_file(path: Path, budget: Budget | None = None, categories: set[str] | None = None) -> FlowReport:
    """Load one flow file and run every check on it."""
    report = FlowReport(Path(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.problems = [Problem(str(path), 1, f"cannot read file: {exc}")]
        return report
    report.flow, report.problems = load_and_check(Path(path), text, budget, categories)
    return report


def check_flows_dir(
    flows_dir: Path, settings: Settings, data: DataReport | None = None, places: Gazetteer | None = None
) -> list[FlowReport]:
    """Check every flow in a folder; with a loaded data report, also against the data (topics, budget)."""
    places = places or gazetteer()
    budget: Budget | None = None
    categories: set[str] | None = None
    if data is not None and data.dataset is not None:
        budget = make_budget(settings, to_resources(data.dataset), served_labels(data.dataset, places), places)
        categories = {c.code for c in data.dataset.categories}
    else:
        budget = make_budget(settings, (), (), places)
    reports = [check_flow_file(p, budget, categories) for p in flow_files(flows_dir)]
    for report in reports:
        if report.flow is not None:
            report.segments = segment_report(report.flow, budget)
    crisis = Path(flows_dir) / CRISIS_FILE
    if crisis.exists():
        reports.append(check_crisis_file(crisis))
    return reports


def check_data_dir(
    data_dir: Path, settings: Settings, places: Gazetteer | None = None, today: date | None = None
) -> DataReport:
    """Check the data folder (categories.yaml and resources.yaml)."""
    places = places or gazetteer()
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
