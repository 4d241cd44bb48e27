"""The shipped crisis screen against the whole labelled set, and `flows check` / `flows crisis-eval` telling an
admin who weakens it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.admin.checks import check_crisis_file, check_flows_dir
from bot.admin.crisis_eval import (
    CLASSES,
    DEFAULT_SET,
    FALSE_POSITIVE_LIMIT,
    RECALL_TARGET,
    Evaluation,
    evaluate,
    load_statements,
)
from bot.cli import main
from bot.config import PROJECT_ROOT, load_settings
from bot.core.safety import CrisisScreen, load_crisis
from tests.places import shared_places

CRISIS = PROJECT_ROOT / "flows" / "crisis.yaml"
SETTINGS = load_settings({"INSTANCE_DIR": "/nonexistent"}, require_secrets=False)


@pytest.fixture(scope="module")
def screen() -> CrisisScreen:
    return load_crisis(CRISIS)


@pytest.fixture(scope="module")
def evaluation(screen: CrisisScreen) -> Evaluation:
    return evaluate(screen, load_statements(DEFAULT_SET))


def test_the_set_is_large_balanced_and_in_both_languages() -> None:
    statements = load_statements(DEFAULT_SET)
    assert len(statements) >= 300
    for language in ("en", "es"):
        for label in CLASSES:
            count = sum(s.language == language and s.label == label for s in statements)
            assert count >= 30, f"{language} {label}: {count}"
    assert len({s.text for s in statements}) == len(statements), "a statement is written twice"


def test_the_screen_hears_the_crisis_statements(evaluation: Evaluation) -> None:
    for score in evaluation.scores:
        if score.crisis:
            assert score.rate >= RECALL_TARGET, score.describe()


def test_the_screen_leaves_idioms_and_needs_alone(evaluation: Evaluation) -> None:
    for score in evaluation.scores:
        if not score.crisis:
            assert score.rate <= FALSE_POSITIVE_LIMIT, score.describe()


def test_every_crisis_answer_names_988_and_emergencies_start_with_911(
    screen: CrisisScreen, evaluation: Evaluation
) -> None:
    for outcome in evaluation.outcomes:
        match, s = outcome.match, outcome.statement
        if match is None:
            continue
        for channel in ("sms", "voice"):
            answer = screen.answer(match, s.language, channel)
            assert "988" in answer and ("AYUDA" in answer), (s.text, answer)
            if match.level == "emergency":
                assert "911" in answer.split(".")[0], (s.text, answer)
        if match.overdose:
            assert "naloxon" in screen.answer(match, s.language, "sms").lower()


def weakened(tmp_path: Path, drop: str) -> Path:
    """A copy of the shipped flows folder whose crisis file has lost every pattern containing `drop`."""
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    crisis = flows / "crisis.yaml"
    lines = [x for x in crisis.read_text().splitlines() if not (x.startswith("        - ") and drop in x)]
    crisis.write_text("\n".join(lines) + "\n")
    return flows


def test_flows_check_passes_the_shipped_crisis_file() -> None:
    report = check_crisis_file(CRISIS)
    assert report.ok, report.problems


def test_flows_check_fails_a_crisis_file_that_no_longer_hears_an_overdose(tmp_path: Path) -> None:
    flows = weakened(tmp_path, "breath")
    reports = check_flows_dir(flows, SETTINGS, places=shared_places())
    crisis = next(r for r in reports if r.path.name == "crisis.yaml")
    assert not crisis.ok
    assert any(
        str(p).startswith(f"{flows / 'crisis.yaml'}:1: on {DEFAULT_SET}: en emergency recall") for p in crisis.problems
    ), crisis.problems


def test_flows_check_fails_a_crisis_file_that_lost_its_exceptions(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    crisis = flows / "crisis.yaml"
    text = crisis.read_text()
    crisis.write_text(text[: text.index("\nexcept:\n")] + "\n" + text[text.index("\nreplies:\n") :])
    report = check_crisis_file(crisis)
    assert any("false positives" in p.message for p in report.problems), report.problems


def test_without_the_set_flows_check_only_loads_the_file(tmp_path: Path) -> None:
    flows = weakened(tmp_path, "breath")
    assert check_crisis_file(flows / "crisis.yaml", statements=tmp_path / "absent.yaml").ok


def test_crisis_eval_prints_scores_and_every_miss(tmp_path: Path) -> None:
    flows = weakened(tmp_path, "breath")
    result = CliRunner().invoke(main, ["flows", "crisis-eval", "--crisis", str(flows / "crisis.yaml")])
    assert result.exit_code == 1
    assert "! en emergency recall" in result.output
    assert "[en emergency] 'my friend isnt breathing': no crisis heard" in result.output


def test_crisis_eval_passes_the_shipped_file_and_explains_what_it_read(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["flows", "crisis-eval"])
    assert result.exit_code == 0, result.output
    assert "en at_risk" in result.output and "es need" in result.output
    mine = tmp_path / "mine.yaml"
    mine.write_text("statements:\n  en:\n    need:\n      - where do i get narcan\n      - he won't wake up\n")
    result = CliRunner().invoke(main, ["flows", "crisis-eval", str(mine)])
    assert result.exit_code == 1
    assert "line 5: [en need] \"he won't wake up\": read as overdose (emergency) by en:" in result.output


def test_a_malformed_set_is_reported_at_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("statements:\n  en:\n    scary:\n      - boo\n")
    result = CliRunner().invoke(main, ["flows", "crisis-eval", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: en.scary: class is one of" in result.output
