"""Checking a whole flows folder for the CLI and for `helpline reload`: every flow file against the data, with
its segment report, and the crisis phrases against the labelled statements.

The checks of one file live beside the flow model (`bot.core.flows.files`) and of a data folder beside the
data (`bot.storage.data_check`), where the hot reloader applies the same ones; this module adds what only an
admin asks for. Problems are `file:line: message` values, so what `helpline flows check` prints is exactly
what stops a reload.
"""

from __future__ import annotations

from pathlib import Path

from bot.admin import crisis_eval
from bot.config import Settings, hotlines
from bot.core.flows import (
    CRISIS_FILE,
    Budget,
    FlowReport,
    check_flow_file,
    flow_files,
    make_budget,
    read_crisis,
    segment_report,
)
from bot.core.places import Gazetteer
from bot.storage.data_check import DataReport, served_labels, to_resources


def check_crisis_file(path: Path, statements: Path | None = crisis_eval.DEFAULT_SET) -> FlowReport:
    """The crisis phrase file loads (as a reload reads it) and, when the labelled statements are there,
    still hears them as well as it must."""
    read = read_crisis(Path(path))
    report = FlowReport(Path(path), kind="crisis phrases", problems=list(read.problems))
    if read.value is not None and statements is not None and Path(statements).exists():
        report.problems = crisis_eval.check(read.value, Path(path), Path(statements))
    return report


def check_flows_dir(
    flows_dir: Path, settings: Settings, data: DataReport | None = None, *, places: Gazetteer
) -> list[FlowReport]:
    """Check every flow in a folder; with a loaded data report, also against the data (topics, budget)."""
    budget: Budget
    categories: set[str] | None = None
    h, segments = hotlines(settings), settings.sms_segment_budget
    if data is not None and data.dataset is not None:
        budget = make_budget(h, segments, to_resources(data.dataset), served_labels(data.dataset, places), places)
        categories = {c.code for c in data.dataset.categories}
    else:
        budget = make_budget(h, segments, (), (), places)
    reports = [check_flow_file(p, budget, categories) for p in flow_files(flows_dir)]
    for report in reports:
        if report.flow is not None:
            report.segments = segment_report(report.flow, budget)
    crisis = Path(flows_dir) / CRISIS_FILE
    if crisis.exists():
        reports.append(check_crisis_file(crisis))
    return reports
