"""The crisis screen: true and false positives, and the answer it gives, in any state."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.core.engine import Context, Inbound, step
from bot.core.flow_loader import FlowError
from bot.core.render import sms_text
from bot.core.safety import CrisisScreen, load_crisis

CRISIS = PROJECT_ROOT / "flows" / "crisis.yaml"


@pytest.fixture(scope="module")
def screen() -> CrisisScreen:
    return load_crisis(CRISIS)


@pytest.mark.parametrize(
    ("text", "category", "overdose"),
    [
        ("I want to kill myself", "self_harm", False),
        ("i just want to END IT ALL", "self_harm", False),
        ("there's no reason to live anymore", "self_harm", False),
        ("I want to die", "self_harm", False),
        ("my brother overdosed", "overdose", True),
        ("I think she took too many pills", "overdose", True),
        ("he OD'd", "overdose", True),
        ("he od\u2019d last night", "overdose", True),
        ("I can't wake him up", "overdose", True),
        ("cant wake her up!!!", "overdose", True),
        ("where can I get narcan", "overdose", True),
        ("he's going to kill me", "harm_to_others", False),
        ("quiero morir", "self_harm", False),
        ("creo que es una sobredosis", "overdose", True),
        ("I'm suicidal and need a meeting", "self_harm", False),
    ],
)
def test_danger_is_recognised(screen: CrisisScreen, text: str, category: str, overdose: bool) -> None:
    match = screen.match(text)
    assert match is not None and match.category == category and match.overdose is overdose


@pytest.mark.parametrize(
    "text",
    [
        "I'm dying to go to a meeting",
        "I killed it at my interview",
        "that's odd",
        "volusia",
        "menu",
        "Is there a suicide prevention walk?",
        "Narcan training tonight?",
        "I need help with food",
        "",
        "odd hours at work",
    ],
)
def test_figures_of_speech_do_not_trigger(screen: CrisisScreen, text: str) -> None:
    assert screen.match(text) is None


def test_ambiguous_distress_gets_988_but_not_911(context: Context) -> None:
    turn = step(context, None, Inbound(text="I feel hopeless"))
    text = sms_text(turn.reply)
    assert "988" in text and "741741" in text
    assert "911 now" not in text


def test_overdose_answer_puts_911_and_naloxone_first(context: Context) -> None:
    turn = step(context, None, Inbound(text="I can't wake him up"))
    text = sms_text(turn.reply)
    assert text.startswith("Possible overdose: call 911 now. Give naloxone (Narcan)")
    assert "Veterans press 1" in text and "AYUDA" in text and "HOME to 741741" in text
    assert "(800) 539-4228" in text and "1-800-662-HELP (4357)" in text


@pytest.mark.parametrize("state_path", [[], ["hi"], ["hi", "3"], ["hi", "1"], ["volusia"], ["st jon"]])
def test_crisis_is_answered_in_every_state_and_the_menu_goes_on(context: Context, state_path: list[str]) -> None:
    session = None
    for message in state_path:
        session = step(context, session, Inbound(text=message)).session
    before = session.state if session else context.flow.start
    turn = step(context, session, Inbound(text="i want to kill myself"))
    assert turn.reply.crisis
    assert "call 911 now" in sms_text(turn.reply)
    assert turn.session.state == before
    after = step(context, turn.session, Inbound(text="menu"))
    assert after.session.state == "welcome"


def test_voice_crisis_offers_the_24_7_line(context: Context) -> None:
    turn = step(context, None, Inbound(text="I want to end my life", channel="voice"))
    assert "press 0" in turn.reply.text


def test_a_crisis_file_without_988_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "crisis.yaml"
    text = CRISIS.read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith('en: "You don'))
    broken.write_text(text.replace(line, '    en: "Call us any time."'))
    with pytest.raises(FlowError, match=r"crisis.yaml:\d+: replies.support.en must name 988"):
        load_crisis(broken)
