"""Whatever a caller keys or says, every answer is valid TwiML that dials the 24/7 line or names both lines."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.twilio_webhooks import Call, spoken
from tests.web.test_voice import HOTLINE_DIGITS, SAMHSA_DIGITS

_callers = itertools.count(1)

actions = st.lists(
    st.one_of(
        st.tuples(st.just("press"), st.text(alphabet="0123456789*#", min_size=1, max_size=6)),
        st.tuples(st.just("say"), st.text(max_size=60)),
        st.tuples(
            st.just("say"),
            st.sampled_from(
                ["volusia", "32114", "help", "back", "repeat", "I overdosed", "yes", "español", "quiero morir"]
            ),
        ),
        st.tuples(st.just("silence"), st.just("")),
        st.tuples(st.just("dial"), st.sampled_from(["completed", "busy", "no-answer", "failed", "canceled", "weird"])),
    ),
    min_size=1,
    max_size=7,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_any_call_keeps_the_lines_in_every_answer(client, steps: list[tuple[str, str]]) -> None:
    call = Call(client, f"+1386558{next(_callers):04d}")
    roots = [call.start()]
    for kind, value in steps:
        if kind == "press":
            roots.append(call.press(value))
        elif kind == "say":
            roots.append(call.say(value))
        elif kind == "silence":
            roots.append(call.silence())
        else:
            roots.append(call.dial_ended(value))
    for root in roots:
        dial = root.find("Dial")
        said = spoken(root)
        if dial is not None:
            assert (dial.findtext("Number") or "").strip() == "+18005394228"
        else:
            # A person is one key away ("press 0", in Spanish "oprima 0"), or the 24/7 number is read out.
            assert SAMHSA_DIGITS in said and ("press 0" in said or "oprima 0" in said or HOTLINE_DIGITS in said), said
