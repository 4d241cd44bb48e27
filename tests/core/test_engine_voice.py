"""The engine on a call, as tables: keys, words and events in; states, actions and spoken words out."""

from __future__ import annotations

import pytest

from bot.core.engine import Context, Inbound, Turn, step
from bot.core.render import sms_text, voice_lines
from bot.core.session import Session

SAMHSA_SPOKEN = "8 0 0, 6 6 2, 4 3 5 7"


def on_call(context: Context, inputs: list[str], can_text: bool = True) -> list[Turn]:
    """Run a call: "call" and "dial:<status>" are events, "~words" is speech, "" is silence, else keys."""
    session: Session | None = None
    turns = []
    for item in inputs:
        if item == "call" or item.startswith("dial:"):
            inbound = Inbound(channel="voice", event=item, can_text=can_text)
        elif item.startswith("~"):
            inbound = Inbound(channel="voice", text=item[1:], confidence=0.9)
        else:
            inbound = Inbound(channel="voice", digits=item)
        turn = step(context, session, inbound)
        session = turn.session
        turns.append(turn)
    return turns


def heard(turn: Turn) -> str:
    return " ".join(voice_lines(turn.reply))


@pytest.mark.parametrize(
    ("inputs", "state", "action", "expected"),
    [
        (["call"], "welcome", "", "For local peer support, press 1."),
        (["call", "1"], "ask_place", "", "say the name of your county"),
        (["call", "1", "32114"], "results", "", "Volusia Recovery Alliance: 3 8 6, 7 7 7, 7 3 3 7."),
        (["call", "1", "~Volusia"], "results", "", "Here is local peer support in Volusia County, Florida."),
        (["call", "~volusia county"], "results", "", "Volusia Recovery Alliance"),
        (["call", "2", "~marion"], "results", "", "Marion County Peer Support"),
        (["call", "3"], "programs", "", "For 12-step and SMART Recovery meetings, press 1."),
        (["call", "3", "1", "~flagler"], "results", "", "online at smartrecovery dot org"),
        (["call", "~lake"], "results", "", "The nearest listing is in"),
        (["call", "1", "32114", "2"], "results", "", "Volusia Recovery Alliance"),
        (["call", "1", "32114", "3"], "ask_place", "", "say the name of your county"),
        (["call", "1", "32114", "4"], "welcome", "", "For other help"),
        (["call", "1", "*"], "ask_place", "", "say the name of your county"),
        (["call", "3", "~main menu"], "welcome", "", "For local peer support"),
        (["call", "0"], "welcome", "connect", "Connecting you to the SMA Healthcare twenty-four seven line"),
        (["call", "1", "32114", "0"], "results", "connect", "Connecting you"),
        (["call", "~operator"], "welcome", "connect", "Connecting you"),
        (["call", "", ""], "welcome", "connect", "Let me connect you with someone who can help."),
        (["call", "7", "6"], "welcome", "connect", "Sorry, I didn't understand that."),
        (["call", "", "1", ""], "ask_place", "", "If you need more time, press 9."),
        (["call", "", "9", ""], "welcome", "", "Sorry, I didn't hear anything."),
        (["call", "1", "~nowhere at all"], "ask_place", "", "I couldn't find that county. Say a county name"),
        (["call", "0", "dial:no-answer"], "welcome", "", "We couldn't connect your call just now."),
        (["call", "0", "dial:completed"], "welcome", "hangup", "Thank you for calling"),
        (["call", "0", "dial:busy", "", ""], "welcome", "hangup", "call or text 9 8 8"),
        (["call", "~st jon"], "welcome", "", "Did you mean St. Johns County, Florida?"),
        (["call", "~st jon", "2"], "ask_place", "", "say the name of your county"),
        (["call", "~st jon", "~yes"], "results", "", "Discover & Recover St. Johns County: 9 0 4, 4 9 5, 0 6 2 5."),
        (["call", "~help"], "welcome", "", "free information about recovery and peer support"),
        (["call", "~st jon", "*"], "welcome", "", "Did you mean St. Johns County, Florida?"),
        (["call", "~st jon", ""], "welcome", "", "Sorry, I didn't hear anything. Did you mean St. Johns County"),
        (["call", "~st jon", "9", "1"], "results", "", "Discover & Recover St. Johns County"),
        # Not a transfer, and not Person County either: an ordinary word inside a sentence is not a place.
        (["call", "1", "~I am a person in recovery"], "ask_place", "", "I couldn't find that county."),
    ],
)
def test_calls(context: Context, inputs: list[str], state: str, action: str, expected: str) -> None:
    last = on_call(context, inputs)[-1]
    assert last.session.state == state
    assert last.reply.action == action
    assert expected in heard(last), heard(last)


def test_every_call_reply_names_a_person_and_samhsa_or_puts_the_caller_through(context: Context) -> None:
    inputs = ["call", "1", "~volusia", "2", "9", "", "4", "3", "1", "~lake", "*", "0", "dial:failed", "~back", "7"]
    for turn in on_call(context, inputs):
        words = heard(turn)
        if turn.reply.action == "connect":
            continue
        assert SAMHSA_SPOKEN in words and ("press 0" in words or "8 0 0, 5 3 9, 4 2 2 8" in words), words


def test_the_first_words_of_a_call_are_the_safety_lines_then_at_most_four_options(context: Context) -> None:
    [turn] = on_call(context, ["call"])
    assert turn.reply.crisis
    assert [c.key for c in turn.reply.choices] == ["1", "2", "3", "4"]
    words = heard(turn)
    assert words.index("9 1 1") < words.index("9 8 8") < words.index(SAMHSA_SPOKEN) < words.index("press 1")


def test_asking_for_the_list_by_text_hands_over_the_whole_list(context: Context) -> None:
    turn = on_call(context, ["call", "2", "~putnam", "1"])[-1]
    texted = turn.reply.texted
    assert texted is not None
    assert texted.key == "FL:putnam county|family"
    assert texted.title == "Support for family and loved ones in Putnam County, FL:"
    names = [r.name for s in texted.sections for r in s.resources]
    assert "Nehemiah Project" in names and "Al-Anon Family Groups meetings" in names
    assert turn.reply.sections == () and "Nehemiah" not in heard(turn)  # not read again
    assert turn.session.state == "results"


def test_a_caller_who_cannot_get_texts_is_not_offered_one(context: Context) -> None:
    turns = on_call(context, ["call", "1", "32114", "1"], can_text=False)
    assert [c.key for c in turns[2].reply.choices] == ["2", "3", "4"]
    assert turns[3].reply.texted is None and turns[3].missed


def test_low_confidence_speech_is_confirmed(context: Context) -> None:
    session = on_call(context, ["call", "1"])[-1].session
    turn = step(context, session, Inbound(channel="voice", text="Volusia", confidence=0.2))
    assert "Did you mean Volusia County, Florida?" in heard(turn)
    assert step(context, turn.session, Inbound(channel="voice", digits="1")).session.state == "results"


def test_texts_are_not_changed_by_call_keys(context: Context) -> None:
    session = step(context, None, Inbound(text="hi")).session
    for body in ["0", "*", "9", "operator"]:
        turn = step(context, session, Inbound(text=body))
        assert turn.reply.action == "" and turn.session.misses == 1  # one text not understood, nothing more
        assert "Sorry, I didn't understand that." in sms_text(turn.reply), body


def test_a_call_session_survives_storage(context: Context) -> None:
    session = on_call(context, ["call", "0", "dial:no-answer", ""], can_text=False)[-1].session
    assert (session.misses, session.dial_failures, session.can_text) == (1, 1, False)
    assert Session.from_dict(session.to_dict()) == session
