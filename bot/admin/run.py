"""Running all transcripts of a flows folder against a sandbox copy of the directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.admin.sandbox import sandbox_directory
from bot.admin.transcripts import Outcome, TranscriptError, load_transcripts, run_transcript, transcript_files
from bot.config import Settings
from bot.core.directory import Directory
from bot.core.engine import Context
from bot.core.flows import CRISIS_FILE, FlowError, load_flow
from bot.core.places import Gazetteer
from bot.core.safety import load_crisis
from bot.wiring import make_context


@dataclass
class RunResult:
    """Every transcript's outcome, file problems, and the states no transcript visited (per flow file)."""

    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    uncovered: dict[str, list[str]] = field(default_factory=dict)


def contexts_for(
    settings: Settings, flows_dir: Path, directory: Directory, names: set[str], places: Gazetteer
) -> tuple[dict[str, Context], list[str]]:
    """One engine context per flow file named by the transcripts; problems for those that do not load."""
    contexts: dict[str, Context] = {}
    problems: list[str] = []
    crisis_file = Path(flows_dir) / CRISIS_FILE
    try:
        crisis = load_crisis(crisis_file) if crisis_file.exists() else None
    except FlowError as exc:
        problems.extend(str(p) for p in exc.problems)
        crisis = None
    for name in sorted(names):
        try:
            contexts[name] = make_context(settings, load_flow(Path(flows_dir) / name), directory, places, crisis)
        except FlowError as exc:
            problems.extend(str(p) for p in exc.problems)
        except OSError as exc:
            problems.append(f"{Path(flows_dir) / name}:1: cannot read the flow: {exc}")
    return contexts, problems


def run_all(
    settings: Settings, flows_dir: Path, directory: Directory, places: Gazetteer, select: str | None = None
) -> RunResult:
    """Run the transcripts in `flows_dir/tests` against an existing directory."""
    result = RunResult()
    transcripts = []
    for path in transcript_files(Path(flows_dir) / "tests"):
        try:
            transcripts.extend(load_transcripts(path))
        except TranscriptError as exc:
            result.problems.extend(str(p) for p in exc.problems)
    if select:
        transcripts = [t for t in transcripts if select.lower() in t.name.lower()]
    contexts, problems = contexts_for(settings, flows_dir, directory, {t.flow for t in transcripts}, places)
    result.problems.extend(problems)
    visited: dict[str, set[str]] = {name: set() for name in contexts}
    for t in transcripts:
        ctx = contexts.get(t.flow)
        if ctx is None:
            continue
        outcome = run_transcript(ctx, t)
        visited[t.flow] |= outcome.visited
        result.outcomes.append(outcome)
    if not select:
        for name, ctx in contexts.items():
            missing = [s for s in ctx.flow.states if s not in visited[name]]
            if missing:
                result.uncovered[name] = missing
    return result


def run_transcript_files(
    settings: Settings, flows_dir: Path, data_dir: Path, places: Gazetteer, select: str | None = None
) -> RunResult:
    """Run the transcripts against the data folder loaded into a throwaway SQLite database."""
    with sandbox_directory(data_dir, places) as directory:
        return run_all(settings, flows_dir, directory, places, select)
