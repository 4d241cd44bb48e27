"""The admins' transcript tests (flows/tests/*.yaml) run here too, each conversation as its own test."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.admin.run import contexts_for, run_all
from bot.admin.transcripts import explain, load_transcripts, run_transcript, transcript_files
from bot.config import PROJECT_ROOT, load_settings
from bot.core.flows import flow_files
from tests.places import shared_places

FLOWS = PROJECT_ROOT / "flows"
SETTINGS = load_settings({"INSTANCE_DIR": "/nonexistent"}, require_secrets=False)
TRANSCRIPTS = [t for path in transcript_files(FLOWS / "tests") for t in load_transcripts(path)]


@pytest.fixture(scope="module")
def contexts(index):  # type: ignore[no-untyped-def]
    found, problems = contexts_for(SETTINGS, FLOWS, index, {t.flow for t in TRANSCRIPTS}, shared_places())
    assert not problems
    return found


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[t.id for t in TRANSCRIPTS])
def test_transcript(contexts, transcript) -> None:  # type: ignore[no-untyped-def]
    outcome = run_transcript(contexts[transcript.flow], transcript)
    assert outcome.passed, explain(outcome)


def test_the_transcripts_visit_every_state_of_every_shipped_flow(index) -> None:  # type: ignore[no-untyped-def]
    result = run_all(SETTINGS, FLOWS, index, shared_places())
    assert not result.problems
    assert result.outcomes and all(o.passed for o in result.outcomes)
    assert result.uncovered == {}
    flows_tested = {o.transcript.flow for o in result.outcomes}
    assert flows_tested == {p.name for p in flow_files(FLOWS)}
    assert {o.transcript.channel for o in result.outcomes} == {"sms", "voice"}


def test_a_failing_transcript_says_where_and_shows_the_difference(tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "tests").mkdir()
    (tmp_path / "main.yaml").write_text((FLOWS / "main.yaml").read_text())
    (tmp_path / "tests" / "typo.yaml").write_text(
        "tests:\n"
        "  - name: a typo in the expected name\n"
        "    steps:\n"
        "      - send: volusia\n"
        "        expect:\n"
        "          - Volusia Recovery Aliance\n"
        "          - not: Emergency\n"
    )
    result = run_all(SETTINGS, tmp_path, index, shared_places())
    [outcome] = result.outcomes
    assert not outcome.passed
    text = explain(outcome)
    assert f"{tmp_path / 'tests' / 'typo.yaml'}:4: step 1 (send: 'volusia')" in text
    assert "typo.yaml:6: expected the reply to contain 'Volusia Recovery Aliance'" in text
    assert "+ - Volusia Recovery Alliance: (386) 777-PEER" in text
    assert "typo.yaml:7: expected the reply to not contain 'Emergency'" in text


def test_a_malformed_transcript_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("tests:\n  - name: no input\n    steps:\n      - expect: hi\n")
    with pytest.raises(ValueError, match=rf"{path}:4: test 'no input': a step needs exactly one of send, press or say"):
        load_transcripts(path)
