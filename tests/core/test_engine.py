"""The flow engine as tables: a conversation in, states and replies out. No web, no Redis."""

from __future__ import annotations

import pytest

from bot.core.engine import Context, Inbound, step
from bot.core.render import sms_text
from bot.core.session import Session


def converse(context: Context, messages: list[str], session: Session | None = None) -> list[tuple[str, str]]:
    """Run messages through the engine; return (state, reply text) after each."""
    out = []
    for message in messages:
        turn = step(context, session, Inbound(text=message))
        session = turn.session
        out.append((session.state, sms_text(turn.reply)))
    return out


@pytest.mark.parametrize(
    ("messages", "state", "expected"),
    [
        (["hi"], "welcome", "1 Local peer support"),
        (["hi", "1"], "ask_place", "COUNTY"),
        (["hi", "1", "volusia"], "results", "Volusia Recovery Alliance: (386) 777-PEER (386-777-7337)"),
        (["volusia"], "results", "Volusia Recovery Alliance"),
        (["hi", "peer support"], "ask_place", "local peer support near you"),
        (["hi", "I want family support"], "ask_place", "support for family and loved ones"),
        (["hi", "3"], "programs", "1 12-step and SMART Recovery meetings"),
        (["hi", "3", "1", "volusia"], "results", "smartrecovery.org"),
        (["hi", "4", "1"], "ask_place", "help with food"),
        (["hi", "5"], "talk_now", "(800) 539-4228"),
        (["hi", "1", "nowhere at all"], "ask_place", "couldn't find that county"),
        (["hi", "3", "back"], "welcome", "1 Local peer support"),
        (["hi", "back"], "welcome", "You're at the start"),
        (["hi", "3", "2", "MENU"], "welcome", "1 Local peer support"),
        (["hi", "2", "flagler"], "results", "Flagler County CORe"),
        (["putnam"], "results", "Recovery Point: (386) 385-3079"),
        (["st johns"], "results", "(904) 495-0625"),
        (["marion"], "results", "(352) 255-6985"),
        (["st jon", "no"], "ask_place", "COUNTY"),
        (["marian", "1"], "results", "Marion County Peer Support"),
        (["hi", "7"], "welcome", "Sorry, I didn't understand that."),
    ],
)
def test_conversations(context: Context, messages: list[str], state: str, expected: str) -> None:
    final_state, text = converse(context, messages)[-1]
    assert final_state == state
    assert expected in text


def test_every_reply_ends_with_the_hotlines(context: Context) -> None:
    for _, text in converse(context, ["hi", "1", "volusia", "more", "menu", "2", "lake", "help", "zzz", "5"]):
        assert text.endswith(
            "SMA Healthcare 24/7 line: (800) 539-4228\n"
            "SAMHSA National Helpline: 1-800-662-HELP (4357)\n"
            "In crisis? Call or text 988. Emergency: 911"
        )


def test_inactive_services_are_never_offered(context: Context) -> None:
    for county in ["volusia", "flagler", "putnam", "st johns", "marion", "cuyahoga"]:
        for _, text in converse(context, [county]):
            assert "(inactive)" not in text


def test_a_vanished_state_restarts_at_the_menu_with_an_explanation(context: Context) -> None:
    stale = Session(flow="main", state="a_state_removed_from_the_flow", history=("welcome", "gone_too"))
    turn = step(context, stale, Inbound(text="1"))
    assert turn.session.state == "welcome"
    assert turn.reply.notice.startswith("Our menu has changed since your last message")
    assert "1 Local peer support" in sms_text(turn.reply)


def test_back_skips_a_state_that_vanished_from_the_history(context: Context) -> None:
    session = Session(flow="main", state="programs", history=("welcome", "gone_in_a_reload"))
    turn = step(context, session, Inbound(text="back"))
    assert turn.session.state == "welcome"
    assert "1 Local peer support" in sms_text(turn.reply)


def test_paging_through_a_long_list(context: Context) -> None:
    small = Context(**{**context.__dict__, "sms_budget": 1})
    first = step(small, None, Inbound(text="putnam"))
    assert first.reply.more >= 1
    assert "Reply MORE" in sms_text(first.reply)
    second = step(small, first.session, Inbound(text="more"))
    shown_first = {r.id for r in first.reply.resources}
    shown_second = {r.id for r in second.reply.resources}
    assert shown_second and not (shown_first & shown_second)


def test_a_crisis_is_answered_in_the_language_it_was_named_in_and_says_why(context: Context) -> None:
    session = step(context, None, Inbound(text="hi")).session
    turn = step(context, session, Inbound(text="me quiero matar"))
    text = sms_text(turn.reply)
    assert "llame al 911 ahora" in text and "988" in text
    assert turn.session.language == session.language == "en"  # the conversation keeps its language
    assert turn.why and turn.why[0].startswith("crisis screen: self_harm (emergency), by the pattern ")
    english = sms_text(step(context, session, Inbound(text="I want to die")).reply)
    assert "call 911 now" in english
