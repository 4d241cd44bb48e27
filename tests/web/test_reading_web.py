"""What people write and say, through signed webhooks: towns, needs in words, questions, two misses in a row."""

from __future__ import annotations

from tests.twilio_webhooks import Call, Phone, assert_hotlines, spoken


def test_one_text_with_a_need_and_a_town_gets_the_listings(phone: Phone) -> None:
    reply = phone.send("NA meetings near Port Orange")
    assert "12-step and SMART Recovery meetings listed in Volusia County, FL" in reply
    assert "Narcotics Anonymous (NA) meetings: na.org" in reply
    assert_hotlines(reply)


def test_a_need_in_words_then_a_town_across_a_county_line(phone: Phone) -> None:
    ask = phone.send("my son is using again")
    assert "support for family and loved ones near you" in ask
    results = phone.send("Palatka")
    assert "Support for family and loved ones in Putnam County, FL:" in results
    assert "Palatka also reaches into Marion County, FL:" in results
    assert "(352) 255-6985" in results
    assert_hotlines(results)


def test_a_town_in_several_states_is_asked_about_then_answered(phone: Phone) -> None:
    question = phone.send("I live in Hope")
    assert "Which Hope do you mean? Reply with a number:" in question
    assert "Hope, AR (Hempstead County)" in question
    assert "Hempstead County, AR" in phone.send("2")


def test_an_ordinary_word_that_is_a_town_is_not_read_as_one(phone: Phone) -> None:
    phone.send("hi")
    reply = phone.send("I hope so")
    assert "Sorry, I didn't understand that." in reply and "Hope," not in reply
    assert_hotlines(reply)


def test_other_help_always_ends_in_a_real_line(phone: Phone) -> None:
    phone.send("hi")
    phone.send("4")
    phone.send("2")
    reply = phone.send("putnam")
    assert "We don't have help with shelter listed in Putnam County, FL yet." in reply
    assert "211 community help: 211" in reply


def test_two_texts_not_understood_in_a_row_offer_a_person(phone: Phone) -> None:
    phone.send("hi")
    first = phone.send("asdf")
    assert "a person can help now" not in first
    second = phone.send("qwer")
    assert "a person can help now: call the SMA Healthcare 24/7 line (800) 539-4228, any time." in second
    assert "1 Local peer support" in second
    assert "a person can help now" not in phone.send("1")


def test_a_question_about_test_strips_is_answered_not_treated_as_an_emergency(phone: Phone) -> None:
    reply = phone.send("where can i get fentanyl test strips?")
    assert "Fentanyl test strips show whether drugs contain fentanyl." in reply
    assert "needs 911 now" in reply and "Possible overdose" not in reply
    assert_hotlines(reply)


def test_a_caller_says_a_town_at_the_first_menu(call: Call) -> None:
    call.start()
    root = call.say("Port Orange")
    heard = spoken(root)
    assert "Here is local peer support in Volusia County, Florida." in heard
    assert "Volusia Recovery Alliance: 3 8 6, 7 7 7, 7 3 3 7." in heard


def test_speech_hints_carry_the_home_states_towns_within_twilios_limit(call: Call) -> None:
    root = call.start()
    hints = (root.find("Gather").get("hints") or "").split(", ")  # type: ignore[union-attr]
    assert "Volusia" in hints and "Port Orange" in hints and "operator" in hints
    assert len(hints) <= 500 and all(len(h) <= 100 for h in hints)


def test_a_naloxone_question_gets_the_answer_and_an_overdose_the_emergency(phone: Phone) -> None:
    question = phone.send("where can I get narcan?")
    assert "sold without a prescription" in question and "Possible overdose" not in question
    assert "needs 911 now" in question
    emergency = phone.send("she won't wake up, I think she took too many percs")
    assert "Possible overdose: call 911 now." in emergency
    for reply in (question, emergency):
        assert_hotlines(reply)
