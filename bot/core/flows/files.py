"""Reading the flows folder's files and checking them: what the hot reloader applies and `helpline flows check`
prints are these same functions, so a file the check passes is a file a worker serves.

Each file is read once as bytes and every check runs over exactly those bytes (the file may change again
meanwhile); the digest names that version. When a file fails, `fall_back` picks what serves instead: the
last good copy, else the file despite its problems if it loaded, else the built-in stand-in.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from bot.core.directory import Resource
from bot.core.flows.check import Budget, Measured, check_flow, longest_resources
from bot.core.flows.loader import FlowError, Problem, parse_flow
from bot.core.flows.model import Flow
from bot.core.flows.schema import schema_problems
from bot.core.places import Gazetteer, county_alias
from bot.core.reply import Hotlines
from bot.core.safety import CrisisScreen, parse_crisis

log = logging.getLogger(__name__)

MAIN_FLOW = "main.yaml"
CRISIS_FILE = "crisis.yaml"
FLOW_SUFFIXES = (".yaml", ".yml")

T = TypeVar("T")


@dataclass
class FileRead(Generic[T]):
    """One reading of a file: what it loaded as (None if it did not), its problems, the bytes they came from."""

    value: T | None
    problems: list[Problem]
    digest: str | None
    raw: bytes

    @property
    def ok(self) -> bool:
        return self.value is not None and not self.problems


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


def flow_files(flows_dir: Path) -> list[Path]:
    """The flow files in a folder (not the crisis phrases, not the `tests/` transcripts)."""
    return sorted(
        p for p in Path(flows_dir).iterdir() if p.is_file() and p.suffix in FLOW_SUFFIXES and p.name != CRISIS_FILE
    )


def served_label(places: Gazetteer, state: str, county: str) -> str:
    """How a served county reads in a reply ("Volusia County, FL"), also for a county the gazetteer lacks."""
    found = places.counties.get(f"{state}:{county.lower()}")
    return found.label if found else f"{county}, {state}"


def make_budget(
    hotlines: Hotlines, segments: int, resources: Sequence[Resource], served: Iterable[str], places: Gazetteer
) -> Budget:
    """The worst case the segment check measures: longest county names and listings, the real footer."""
    labels = tuple(sorted((c.label for c in places.counties.values()), key=len)[-3:])
    towns = tuple(sorted((t.label for t in places.each_town()), key=len)[-3:])
    return Budget(
        hotlines=hotlines,
        segments=segments,
        resources=longest_resources(resources, hotlines),
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


def _read_bytes(path: Path, what: str) -> tuple[bytes | None, list[Problem]]:
    try:
        return path.read_bytes(), []
    except OSError as exc:
        return None, [Problem(str(path), 1, f"cannot read the {what}: {exc.strerror or exc}")]


def read_flow(
    path: Path, budget: Budget | None = None, categories: set[str] | None = None
) -> FileRead[Flow]:
    """Read a flow file once, then load and check exactly those bytes."""
    raw, problems = _read_bytes(path, "flow file")
    if raw is None:
        return FileRead(None, problems, None, b"")
    read: FileRead[Flow] = FileRead(None, [], hashlib.sha256(raw).hexdigest(), raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        read.problems = [Problem(str(path), 1, f"not UTF-8 text: {exc}")]
        return read
    read.value, read.problems = load_and_check(path, text, budget, categories)
    return read


def read_crisis(path: Path) -> FileRead[CrisisScreen]:
    """Read the crisis phrase file once and check those bytes (its own checks live in `bot.core.safety`)."""
    raw, problems = _read_bytes(path, "crisis file")
    if raw is None:
        return FileRead(None, problems, None, b"")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        return FileRead(parse_crisis(raw.decode("utf-8"), str(path)), [], digest, raw)
    except FlowError as exc:
        return FileRead(None, list(exc.problems), digest, raw)
    except Exception as exc:  # noqa: BLE001 - a loader crash is a refusal, never an outage
        return FileRead(None, [Problem(str(path), 1, f"cannot be loaded: {type(exc).__name__}: {exc}")], digest, raw)


def check_flow_file(path: Path, budget: Budget | None = None, categories: set[str] | None = None) -> FlowReport:
    """Load one flow file and run every check on it."""
    read = read_flow(Path(path), budget, categories)
    return FlowReport(Path(path), read.value, read.problems)


def fall_back(
    read: FileRead[T], kept: Path, reread: Callable[[Path], FileRead[T]], built_in: Callable[[], T], what: str
) -> tuple[FileRead[T], bool]:
    """What serves when `read` (of the file of `what`, "flow" or "crisis phrases") failed its checks: the last
    good copy at `kept` if it passes, else the file despite its problems if it loaded, else the built-in one.
    The flag says whether the file itself passed (so it is the one to keep as the last good copy)."""
    if read.ok:
        return read, True
    last = reread(kept) if kept.exists() else None
    if last is not None and last.ok:
        log.error("serving the last good %s from %s instead", what, kept)
        return last, False
    if read.value is not None:
        log.error("no last good %s kept: serving the file despite its problems", what)
        return read, False
    log.error("no usable %s: serving the built-in one until the file is fixed", what)
    return FileRead(built_in(), [], None, b""), False
