"""Every check fires on its fixture file, at the right line; the shipped flows and data pass them all."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.admin.checks import check_flows_dir
from bot.cli import main
from bot.config import PROJECT_ROOT, hotlines, load_settings
from bot.core.flows import check_flow_file, make_budget
from bot.storage.data_check import check_data_dir, served_labels, to_resources
from tests.places import shared_places

FIXTURES = Path(__file__).parent / "fixtures"
FLOW_FIXTURES = sorted(p for p in (FIXTURES / "flows").glob("*.yaml") if p.name != "ok.yaml")
DATA_FIXTURES = sorted(p for p in (FIXTURES / "data").iterdir() if p.name != "ok")
SETTINGS = load_settings({"INSTANCE_DIR": "/nonexistent"}, require_secrets=False)
TODAY = date(2026, 12, 2)


def expected(path: Path) -> str:
    """The `# expect: LINE: message` comment at the top of a fixture."""
    match = re.search(r"^# expect: (.+)$", path.read_text(encoding="utf-8"), re.M)
    assert match, f"{path} has no '# expect:' line"
    return match.group(1)


@pytest.fixture(scope="module")
def shipped_data():  # type: ignore[no-untyped-def]
    return check_data_dir(PROJECT_ROOT / "data", SETTINGS, places=shared_places(), today=TODAY)


@pytest.fixture(scope="module")
def budget(shipped_data):  # type: ignore[no-untyped-def]
    places = shared_places()
    return make_budget(
        hotlines(SETTINGS), SETTINGS.sms_segment_budget, to_resources(shipped_data.dataset),
        served_labels(shipped_data.dataset, places), places,
    )


def test_the_shipped_flows_pass_every_check(shipped_data) -> None:  # type: ignore[no-untyped-def]
    reports = check_flows_dir(PROJECT_ROOT / "flows", SETTINGS, shipped_data, places=shared_places())
    assert reports
    for report in reports:
        assert report.ok, "\n".join(map(str, report.problems))


def test_the_shipped_data_has_no_errors(shipped_data) -> None:  # type: ignore[no-untyped-def]
    assert shipped_data.ok, "\n".join(map(str, shipped_data.findings))


def test_the_valid_fixtures_pass(budget) -> None:  # type: ignore[no-untyped-def]
    categories = {"peer-support"}
    assert check_flow_file(FIXTURES / "flows" / "ok.yaml", budget, categories).ok
    assert check_data_dir(FIXTURES / "data" / "ok", SETTINGS, places=shared_places(), today=TODAY).findings == []


@pytest.mark.parametrize("path", FLOW_FIXTURES, ids=[p.stem for p in FLOW_FIXTURES])
def test_each_flow_check_fires_on_its_fixture_at_its_line(path: Path, shipped_data, budget) -> None:  # type: ignore[no-untyped-def]
    categories = {c.code for c in shipped_data.dataset.categories}
    report = check_flow_file(path, budget, categories)
    line, message = expected(path).split(": ", 1)
    found = [str(p) for p in report.problems]
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in found), "\n".join(found)


@pytest.mark.parametrize("path", DATA_FIXTURES, ids=[p.name for p in DATA_FIXTURES])
def test_each_data_check_fires_on_its_fixture_at_its_line(path: Path) -> None:
    report = check_data_dir(path, SETTINGS, places=shared_places(), today=TODAY)
    where, line, message = expected(path / "resources.yaml").split(":", 2)
    found = [str(f) for f in report.findings]
    assert any(f.startswith(f"{path / where}:{line}:") and message.strip() in f for f in found), "\n".join(found)


def test_stale_facts_are_a_warning_that_strict_mode_fails(tmp_path: Path) -> None:
    runner = CliRunner()
    stale = FIXTURES / "data" / "stale"
    relaxed = runner.invoke(main, ["data", "check", str(stale)])
    assert relaxed.exit_code == 0, relaxed.output
    assert "warning: service 'flagler-county-core-peer-support' was last checked on 2020-01-15" in relaxed.output
    strict = runner.invoke(main, ["data", "check", "--strict", str(stale)])
    assert strict.exit_code == 1


def test_flows_check_cli_prints_file_line_and_fails(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "flows" / "unreachable.yaml", tmp_path / "main.yaml")
    result = CliRunner().invoke(main, ["flows", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'main.yaml'}:17: state 'orphan' is unreachable" in result.output


def test_flows_check_cli_passes_the_shipped_flows() -> None:
    result = CliRunner().invoke(main, ["flows", "check"])
    assert result.exit_code == 0, result.output
    assert "main.yaml: ok" in result.output


def test_flows_check_proves_both_languages_and_prints_the_segments_of_every_state_in_each() -> None:
    result = CliRunner().invoke(main, ["flows", "check"])
    assert result.exit_code == 0, result.output
    assert "languages en, es: every text, label, message, keyword and phrase list in each" in result.output
    assert re.search(r"^\s+en\s+es$", result.output, re.M), result.output
    for state in ("welcome", "programs", "other_help", "talk_now", "ask_place", "results"):
        row = re.search(rf"^\s+state '{state}'\s+(\d+) \(GSM-7, \d+\)\s+(\d+) \(GSM-7, \d+\)$", result.output, re.M)
        assert row, f"{state}:\n{result.output}"
        assert all(1 <= int(n) <= SETTINGS.sms_segment_budget for n in row.groups())


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (  # a Spanish text left out
            '      es: "Otra ayuda. Nuestros pares de apoyo le pueden conectar con estos servicios. '
            'Responda del 1 al 4:"',
            "",
            "states.other_help.text has no 'es' text (every language the flow speaks needs one)",
        ),
        (  # a topic's Spanish phrases left out
            '      es: [comida, hambre, alimento*, despensa, banco* de comida, "cupones de (comida|alimentos)"]\n',
            "",
            "topics.food has phrases in 'en' but none in 'es' (people writing in 'es' never find it)",
        ),
        (  # the key that switches language, used by the first menu
            '      - key: 4\n        label: {en: "Other help',
            '      - key: 8\n        label: {en: "Other help',
            "on calls digit 8 at the first menu switches language",
        ),
    ],
)
def test_the_bilingual_flow_is_refused_when_broken(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = (PROJECT_ROOT / "flows" / "main.yaml").read_text()
    assert old in text
    (tmp_path / "main.yaml").write_text(text.replace(old, new))
    result = CliRunner().invoke(main, ["flows", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert message in result.output


def test_data_check_reports_every_broken_service_not_just_the_first(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "data" / "ok", data)
    text = (data / "resources.yaml").read_text()
    text = text.replace("status: active", "status: open")
    (data / "resources.yaml").write_text(text)
    report = check_data_dir(data, SETTINGS, places=shared_places(), today=TODAY)
    assert len([f for f in report.errors if "status must be one of active, inactive, got 'open'" in f.message]) == 2


def test_a_topic_the_flow_offers_with_no_service_anywhere_is_an_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    text = (data / "resources.yaml").read_text()
    only_food = text.replace("categories: [food, shelter, jobs, transportation]", "categories: [food]")
    (data / "resources.yaml").write_text(only_food)
    report = check_data_dir(data, SETTINGS, places=shared_places(), today=TODAY)
    errors = [f.message for f in report.errors]
    assert any("'shelter' is a topic the flow offers, but no active service has it" in e for e in errors), errors
    assert not any("'food' is a topic" in e for e in errors)
    assert not report.ok
