"""Choosing the language: the first message's words (`language.detect`), the switch words, opt-out words."""

from __future__ import annotations

import pytest

from bot.core.compliance import keyword_language, opt_in_keyword, opt_out_keyword
from bot.core.flows.model import RESERVED_WORDS
from bot.core.language import detect, offered, switch
from bot.core.text import fold


@pytest.mark.parametrize(
    "text",
    [
        "buenas, ocupo ayuda para mi papá",
        "Buenos días",
        "necesito ayuda",
        "hola, necesito ayuda",
        "Hola quiero información",
        "¿hay reuniones?",
        "mi hijo toma mucho",
        "vivo en Volusia",
        "ayuda",
        "gracias",
        "quiero dejar de tomar",
        "busco tratamiento para mi esposo",
        "hi, necesito ayuda",  # mixed, but the Spanish words say more
    ],
)
def test_clearly_spanish_first_messages(text: str) -> None:
    assert detect(text) == "es"


@pytest.mark.parametrize(
    "text",
    [
        "hola",  # greets in both languages: stays in the default
        "Hola!",
        "ok",
        "OK",
        "AA",
        "na",
        "si",
        "no",
        "1",
        "32114",
        "volusia",
        "Volusia County",
        "De Soto",  # a Florida county whose name starts with a Spanish word
        "Santa Rosa",
        "La Belle",
        "San Juan",
        "st johns",
        "",
        "   ",
        "👍",
    ],
)
def test_short_messages_and_place_names_stay_in_the_default_language(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize(
    "text",
    ["hello", "I need help", "hola, I need help for my son", "my daughter needs help", "looking for meetings"],
)
def test_clearly_english_first_messages(text: str) -> None:
    assert detect(text) == "en"


def test_an_even_mix_decides_nothing() -> None:
    assert detect("need ayuda") is None
    assert detect("I need ayuda") == "en"  # "I" tips it


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ESPAÑOL", "es"),
        ("espanol", "es"),
        ("Español por favor", "es"),
        ("en español", "es"),
        ("SPANISH", "es"),
        ("in spanish please", "es"),
        ("ENGLISH", "en"),
        ("inglés", "en"),
        ("INGLES", "en"),
        ("english please", "en"),
    ],
)
def test_switch_words(text: str, lang: str) -> None:
    assert switch(fold(text)) == lang


@pytest.mark.parametrize("text", ["hablo poco español", "my wife speaks spanish", "clases de ingles", "englishtown"])
def test_a_sentence_that_merely_names_a_language_does_not_switch(text: str) -> None:
    assert switch(fold(text)) is None


def test_switch_words_are_reserved_so_a_flow_cannot_use_them_as_keywords() -> None:
    assert {"espanol", "spanish", "english", "ingles", "parar", "baja", "alta"} <= RESERVED_WORDS


def test_the_menu_offers_the_other_language() -> None:
    assert offered(("en", "es"), "en") == "es"
    assert offered(("en", "es"), "es") == "en"
    assert offered(("en",), "en") == ""


# --- opt-out and opt-in words in Spanish --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("PARAR", "parar"),
        ("Parar.", "parar"),
        ("cancelar", "cancelar"),
        ("DETENER", "detener"),
        ("baja", "baja"),
        ("BAJA!", "baja"),
        ("darme de baja", "darmedebaja"),
        ("ya no me manden mensajes", "solicitud"),
        ("Ya no me manden mensajes, por favor", "solicitud"),
        ("no me envíen más mensajes", "solicitud"),
        ("no quiero recibir mas mensajes", "solicitud"),
        ("dejen de mandarme mensajes", "solicitud"),
        ("quiero darme de baja", "solicitud"),
    ],
)
def test_spanish_opt_out_words_and_requests(text: str, keyword: str) -> None:
    assert opt_out_keyword(text) == keyword
    assert keyword_language(keyword) == "es"


@pytest.mark.parametrize(
    "text",
    [
        "quiero dejar de tomar",  # a need, not an opt-out
        "quiero parar de beber",
        "como puedo dejar de usar",
        "necesito cancelar una cita",
        "mi hijo no para de tomar",
        "bajar de peso",
        "no me manden a otro lugar",
    ],
)
def test_spanish_sentences_that_contain_a_stop_word_are_not_opt_outs(text: str) -> None:
    assert opt_out_keyword(text) is None


@pytest.mark.parametrize("text", ["ALTA", "alta", "dar de alta", "COMENZAR", "reanudar"])
def test_spanish_resubscribe_words(text: str) -> None:
    keyword = opt_in_keyword(text)
    assert keyword is not None and keyword_language(keyword) == "es"


@pytest.mark.parametrize("text", ["inicio", "menu", "si", "hola", "empezar de nuevo"])
def test_menu_words_and_answers_do_not_resubscribe(text: str) -> None:
    assert opt_in_keyword(text) is None


def test_english_words_keep_their_language() -> None:
    assert keyword_language("stop") == "en" and keyword_language("request") == "en"
    assert keyword_language(opt_in_keyword("START") or "") == "en"
