"""The words of a call: menu lines, numbers digit by digit, the safety lines, the text a caller asks for."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.directory import Phone, Resource
from bot.core.render import (
    speakable,
    spoken_choice,
    spoken_number,
    texted_list_body,
    voice_lines,
    voice_parts,
    voice_resource,
)
from bot.core.reply import CRISIS_LINES, Choice, Hotlines, LineNames, Reply, Section, TextedList
from bot.core.segments import count

HOTLINES = Hotlines(
    "SMA Healthcare Peer Support Line",
    "SMA Healthcare 24/7 line",
    Phone("+18005394228", "(800) 539-4228"),
    "SAMHSA National Helpline",
    Phone("+18006624357", "1-800-662-HELP (4357)"),
)


@pytest.mark.parametrize(
    ("spoken", "key", "line"),
    [
        ("Local peer support", "1", "For local peer support, press 1."),
        ("12-step and SMART Recovery meetings", "1", "For 12-step and SMART Recovery meetings, press 1."),
        ("to get this list by text", "1", "To get this list by text, press 1."),
        ("Lake County, Florida", "2", "For Lake County, Florida, press 2."),
        ("SMART Recovery", "3", "For SMART Recovery, press 3."),
    ],
)
def test_menu_lines(spoken: str, key: str, line: str) -> None:
    assert spoken_choice(Choice(key, spoken, spoken)) == line


@pytest.mark.parametrize(
    ("number", "said"),
    [
        ("+13867777337", "3 8 6, 7 7 7, 7 3 3 7"),
        ("988", "9 8 8"),
        ("+442079460000", "4 4 2 0 7 9 4 6 0 0 0 0"),
    ],
)
def test_numbers_are_read_digit_by_digit(number: str, said: str) -> None:
    assert spoken_number(Phone(number, number)) == said


def test_resources_without_a_phone_are_read_sensibly() -> None:
    text = Resource("ctl", "Crisis Text Line", "CTL", (), ("crisis",), text_instructions="Text HOME to 741741")
    web = Resource(
        "smart", "SMART Recovery meetings", "SMART", (), ("x",), url="https://www.smartrecovery.org/meetings/"
    )
    assert voice_resource(text) == "Crisis Text Line: Text HOME to 7 4 1 7 4 1."
    assert voice_resource(web) == "SMART Recovery meetings: online at smartrecovery dot org."
    assert speakable("our 24/7 line") == "our twenty-four seven line"


def test_a_prompt_ends_with_a_person_and_samhsa_and_tips() -> None:
    lines = voice_lines(
        Reply(HOTLINES, speech="Recovery programs.", choices=(Choice("1", "Treatment", "Treatment"),), misses=1)
    )
    assert lines == [
        "Recovery programs.",
        "For treatment, press 1.",
        "To hear this again, press star. If you need more time, press 9.",
        (
            "To talk with someone at the SMA Healthcare twenty-four seven line, press 0. "
            "You can also call the SAMHSA National Helpline at 8 0 0, 6 6 2, 4 3 5 7."
        ),
    ]


def test_the_texted_list_keeps_to_the_budget_and_ends_with_the_hotlines() -> None:
    many = tuple(
        Resource(
            f"r{i}",
            f"Recovery Community Organization number {i}",
            "org",
            (Phone("+13867777337", "(386) 777-PEER"),),
            ("x",),
        )
        for i in range(30)
    )
    body = texted_list_body(
        TextedList("Local peer support in Volusia County, FL:", (Section("", many),), "k"), HOTLINES, 4
    )
    assert count(body).segments <= 4
    assert body.startswith("The list from your call to the SMA Healthcare Peer Support Line:\nLocal peer support in")
    assert "Call us back to hear" in body
    assert body.endswith("In crisis? Call or text 988. Emergency: 911")


# --- Spanish, and the 24/7 number on every results page ------------------------------------------------

SPANISH = Hotlines(
    HOTLINES.program,
    HOTLINES.hotline_name,
    HOTLINES.hotline,
    HOTLINES.samhsa_name,
    HOTLINES.samhsa,
    names=(("es", LineNames("SMA Healthcare 24 horas", "SAMHSA (en español)", CRISIS_LINES["es"])),),
)
ALLIANCE = Resource("vra", "Volusia Recovery Alliance", "VRA", (Phone("+13867777337", "(386) 777-PEER"),), ("x",))


@pytest.mark.parametrize(
    ("spoken", "key", "line"),
    [
        ("apoyo entre pares cerca de usted", "1", "Para apoyo entre pares cerca de usted, oprima 1."),
        ("para recibir esta lista por texto", "1", "Para recibir esta lista por texto, oprima 1."),
        ("el menú principal", "4", "Para el menú principal, oprima 4."),
    ],
)
def test_menu_lines_in_spanish(spoken: str, key: str, line: str) -> None:
    assert spoken_choice(Choice(key, spoken, spoken), "es") == line


def test_a_spanish_prompt_names_the_lines_in_spanish_with_every_digit() -> None:
    lines = voice_lines(Reply(SPANISH, speech="Programas.", choices=(Choice("1", "x", "tratamiento"),), language="es"))
    assert lines == [
        "Programas.",
        "Para tratamiento, oprima 1.",
        "Para escuchar esto otra vez, oprima asterisco.",
        "Para hablar con alguien de SMA Healthcare 24 horas, oprima 0. "
        "También puede llamar a SAMHSA (en español) al 8 0 0, 6 6 2, 4 3 5 7.",
    ]


def test_the_spanish_safety_lines_say_how_988_answers_in_spanish() -> None:
    said = " ".join(voice_lines(Reply(SPANISH, crisis=True, expect="none", language="es")))
    assert "Si es una emergencia, cuelgue y llame al 9 1 1." in said
    assert "llamar al 9 8 8 y oprimir 2 para español, o mandar la palabra AYUDA por texto al 9 8 8" in said
    assert "llame a SMA Healthcare 24 horas al 8 0 0, 5 3 9, 4 2 2 8" in said


@pytest.mark.parametrize(
    ("lines", "language", "read"),
    [
        (HOTLINES, "en", "press 0, or call 8 0 0, 5 3 9, 4 2 2 8."),
        (SPANISH, "es", "oprima 0, o llame al 8 0 0, 5 3 9, 4 2 2 8."),
    ],
)
def test_a_results_page_reads_the_24_7_number_not_only_press_0(lines: Hotlines, language: str, read: str) -> None:
    page = Reply(lines, speech="Results.", sections=(Section("", (ALLIANCE,)),), choices=(), language=language)
    assert read in voice_lines(page)[-1]
    texted = replace(page, sections=(), texted=TextedList("t", (), "k"))  # the page after the list was sent
    assert read in voice_lines(texted)[-1]
    menu = Reply(lines, speech="Menu.", choices=(Choice("1", "x", "x"),), language=language)
    assert "5 3 9" not in voice_lines(menu)[-1]  # a menu without listings keeps to "press 0"


def test_the_other_language_is_offered_in_that_language() -> None:
    parts = voice_parts(Reply(SPANISH, speech="Welcome.", choices=(Choice("1", "x", "x"),), offer_language="es"))
    assert parts[1] == ("Para español, oprima 8 o diga español.", "es")
    assert all(lang == "en" for _, lang in parts[:1] + parts[2:])


def test_the_texted_list_of_a_spanish_call_is_in_spanish() -> None:
    body = texted_list_body(
        TextedList("Apoyo entre pares en Volusia County, FL:", (Section("", (ALLIANCE,)),), "k"), SPANISH, 4, "es"
    )
    assert body.startswith("La lista de su llamada a la SMA Healthcare Peer Support Line:\nApoyo entre pares en")
    assert body.endswith(
        "SMA Healthcare 24 horas: (800) 539-4228\nSAMHSA (en español): 1-800-662-HELP (4357)\n" + CRISIS_LINES["es"]
    )
    assert count(body).encoding == "GSM-7"


def test_the_fixed_wording_a_text_carries_keeps_to_gsm7_in_every_language() -> None:
    from bot.config import DEFAULT_HOTLINE_NAME_ES, DEFAULT_SAMHSA_NAME_ES
    from bot.core.render import WORDS
    from bot.core.segments import is_gsm7

    texted = ("about_miles", "texted_intro", "call_back", "offer_sms")  # the rest is only spoken
    for lang, words in WORDS.items():
        for key in texted:
            assert is_gsm7(words[key]), (lang, key, words[key])
    for line in (*CRISIS_LINES.values(), DEFAULT_HOTLINE_NAME_ES, DEFAULT_SAMHSA_NAME_ES):
        assert is_gsm7(line), line
