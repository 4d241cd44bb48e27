"""Flow files: the shipped one loads; a broken one is refused with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.core.flow_loader import FlowError, load_flow

MAIN = PROJECT_ROOT / "flows" / "main.yaml"


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = MAIN.read_text()
    assert old in text, old
    path = tmp_path / "main.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_the_shipped_flow_loads() -> None:
    flow = load_flow(MAIN)
    assert flow.start == "welcome" and flow.results_state == "results"
    assert len(flow.states["welcome"].options_for("voice")) <= 4


def test_unknown_target_state_names_file_and_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "goto: programs", "goto: progams")
    with pytest.raises(FlowError) as err:
        load_flow(path)
    assert f"{path}:{line_of(path, '- key: 3')}: state 'welcome' goes to 'progams'" in str(err.value)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "  programs:\n", "  programs:\n   bad: [unclosed\n")
    with pytest.raises(FlowError) as err:
        load_flow(path)
    assert str(err.value).startswith(f"{path}:")
    assert "not valid YAML" in str(err.value)


def test_duplicate_digit_is_refused(tmp_path: Path) -> None:
    path = broken(
        tmp_path, "      - key: 2\n        label: Sober living", "      - key: 1\n        label: Sober living"
    )
    with pytest.raises(FlowError, match="digit 1 is used twice"):
        load_flow(path)


def test_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, "{topic} in {county}:", "{topic} in {countee}:")
    with pytest.raises(FlowError, match=r"uses \{countee\}"):
        load_flow(path)


def test_keyword_colliding_with_a_global_word_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, "keywords: [other, other help]", "keywords: [other, help]")
    with pytest.raises(FlowError, match="'help' collides with a global word"):
        load_flow(path)


def test_yes_and_no_stay_words_not_booleans(tmp_path: Path) -> None:
    path = broken(tmp_path, "keywords: [other, other help]", "keywords: [other, yes, no, on, off]")
    flow = load_flow(path)
    option = flow.states["welcome"].options[3]
    assert option.keywords["en"] == ("other", "yes", "no", "on", "off")
