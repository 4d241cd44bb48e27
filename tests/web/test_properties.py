"""Whatever arrives, the answer is 200, valid TwiML, and (but for the silence after STOP) the hotlines."""

from __future__ import annotations

import itertools
from xml.etree import ElementTree

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.compliance import opt_out_keyword
from tests.twilio_webhooks import HOTLINE_TEXT, SAMHSA_TEXT, sign, sms_params

_numbers = itertools.count(1)

bodies = st.one_of(
    st.text(max_size=1600),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1600, max_size=1600),
    st.sampled_from(["", " ", "volusia", "32114", "STOP", "help", "menu", "<?xml?>&<>\"'", "\x00\x07\x1b", "😀" * 200]),
    st.builds(lambda a, b: a + b, st.sampled_from(["1", "2", "back ", "more ", "st. "]), st.text(max_size=40)),
)
FIELDS = list(sms_params("x", "+1").keys())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=bodies,
    drop=st.sets(st.sampled_from(FIELDS), max_size=4),
    extra=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=2),
)
def test_any_message_gets_a_safe_answer(client, body: str, drop: set[str], extra: dict[str, str]) -> None:
    sender = f"+1386556{next(_numbers):04d}"
    params = {k: v for k, v in sms_params(body, sender).items() if k not in drop}
    params.update({k: v for k, v in extra.items() if k not in params})
    response = client.post("/sms", data=params, headers={"X-Twilio-Signature": sign("http://localhost/sms", params)})
    assert response.status_code == 200, response.data
    root = ElementTree.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    messages = root.findall("Message")
    if not messages:
        assert params.get("From") and opt_out_keyword(params.get("Body", "")) is not None
        return
    assert len(messages) == 1
    text = messages[0].text or ""
    assert HOTLINE_TEXT in text and SAMHSA_TEXT in text
    assert len(text) <= 1600


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    messages=st.lists(
        st.one_of(bodies, st.sampled_from(["1", "2", "3", "4", "5", "back", "menu", "more", "yes", "no"])),
        min_size=1,
        max_size=8,
    )
)
def test_any_conversation_keeps_the_hotlines_in_every_reply(client, messages: list[str]) -> None:
    sender = f"+1386557{next(_numbers):04d}"
    opted_out = False
    for body in messages:
        params = sms_params(body, sender)
        response = client.post(
            "/sms", data=params, headers={"X-Twilio-Signature": sign("http://localhost/sms", params)}
        )
        assert response.status_code == 200
        root = ElementTree.fromstring(response.get_data(as_text=True))
        messages_ = root.findall("Message")
        if opt_out_keyword(body):
            opted_out = True
        if not messages_:
            assert opted_out
            continue
        text = messages_[0].text or ""
        assert HOTLINE_TEXT in text and SAMHSA_TEXT in text
