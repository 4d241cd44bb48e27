"""Seeing the bot: the terminal simulator (scripted through standard input) and the flow diagrams."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.admin import graph
from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.core.flows import load_flow
from bot.core.flows.model import GLOBAL_WORDS

FLOW = load_flow(PROJECT_ROOT / "flows" / "main.yaml")


def test_chat_reads_a_scripted_conversation_and_shows_segments_and_encoding() -> None:
    result = CliRunner().invoke(main, ["chat"], input="hi\n1\nvolusia\n/state\n")
    assert result.exit_code == 0, result.output
    assert "you> hi\n  +-- 4 segments, GSM-7, 473 units, 473 characters  [state: welcome]" in result.output
    assert "  | - Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)" in result.output
    assert "  | SAMHSA National Helpline: 1-800-662-HELP (4357)" in result.output
    assert "(state results, language en, vars {'topic': 'peer-support', 'county': 'FL:volusia county'}" in result.output


def test_chat_as_a_caller_takes_keys_and_speech() -> None:
    result = CliRunner().invoke(main, ["chat", "--voice"], input="1\n32114#\n2\n/sms\nvolusia\n")
    assert result.exit_code == 0, result.output
    assert (
        "caller> 32114#\n  +-- caller hears  [state: results]\n"
        "  | Here is local peer support in Volusia County, Florida."
        in result.output
    )
    assert "Volusia Recovery Alliance: 3 8 6, 7 7 7, 7 3 3 7." in result.output
    assert "For the main menu, press 4." in result.output
    assert "you> volusia\n  +-- 2 segments, GSM-7" in result.output


def test_chat_shows_ucs2_when_a_reply_needs_it(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    text = (flows / "main.yaml").read_text().replace("Recovery programs. Reply", "Programas de recuperación. Reply")
    (flows / "main.yaml").write_text(text)
    result = CliRunner().invoke(main, ["chat", "--flow", str(flows / "main.yaml")], input="3\n")
    assert "segments, UCS-2," in result.output, result.output


def test_mermaid_has_every_state_option_and_global_word() -> None:
    chart = graph.mermaid(FLOW)
    assert chart.startswith("flowchart TD\n")
    for state in FLOW.states.values():
        assert f"{state.name}" in chart
        for option in state.options:
            assert f"{option.key} {option.label.get('en', 'en')}" in chart
    for words in GLOBAL_WORDS.values():
        assert words[0].upper() in chart
    assert "5 Talk to someone now (text only)" in chart
    assert '|"town, county or ZIP found"|' in chart and "MORE: next page" in chart


def test_dot_output_is_valid_graphviz_when_dot_is_installed(tmp_path: Path) -> None:
    source = graph.dot(FLOW)
    assert source.startswith('digraph "main" {') and '"welcome" -> "programs"' in source
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    svg = CliRunner().invoke(main, ["flows", "graph", "-f", "svg", "-o", str(tmp_path / "flow.svg")])
    assert svg.exit_code == 0, svg.output
    assert (tmp_path / "flow.svg").read_text().lstrip().startswith("<?xml")


def test_svg_without_graphviz_says_what_to_install(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["flows", "graph", "-f", "png", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 1
    assert "Graphviz's `dot` is not installed" in result.output


def test_the_admin_guide_shows_the_current_default_flow() -> None:
    guide = (PROJECT_ROOT / "docs" / "admin.md").read_text()
    assert f"```mermaid\n{graph.mermaid(FLOW)}```" in guide, "regenerate: helpline flows graph"
