"""Flow files: the shipped one loads; a broken one is refused with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.core.flows import FlowError, load_flow

MAIN = PROJECT_ROOT / "flows" / "main.yaml"


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = MAIN.read_text()
    assert old in text, old
    path = tmp_path / "main.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_the_shipped_flow_loads() -> None:
    flow = load_flow(MAIN)
    assert flow.start == "welcome" and flow.results_state == "results"
    assert len(flow.states["welcome"].options_for("voice")) <= 4


def test_unknown_target_state_names_file_and_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "goto: programs", "goto: progams")
    with pytest.raises(FlowError) as err:
        load_flow(path)
    assert f"{path}:{line_of(path, '- key: 3')}: state 'welcome' goes to 'progams'" in str(err.value)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = broken(tmp_path, "  programs:\n", "  programs:\n   bad: [unclosed\n")
    with pytest.raises(FlowError) as err:
        load_flow(path)
    assert str(err.value).startswith(f"{path}:")
    assert "not valid YAML" in str(err.value)


def test_duplicate_digit_is_refused(tmp_path: Path) -> None:
    path = broken(
        tmp_path, "      - key: 2\n        label: {en: Sober living", "      - key: 1\n        label: {en: Sober living"
    )
    with pytest.raises(FlowError, match="digit 1 is used twice"):
        load_flow(path)


def test_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, "{topic} in {county}:", "{topic} in {countee}:")
    with pytest.raises(FlowError, match=r"uses \{countee\}"):
        load_flow(path)


def test_keyword_colliding_with_a_global_word_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, "en: [other, other help]", "en: [other, help]")
    with pytest.raises(FlowError, match="'help' collides with a global word"):
        load_flow(path)


def test_yes_and_no_stay_words_not_booleans(tmp_path: Path) -> None:
    path = broken(tmp_path, "en: [other, other help]", "en: [other, yes, no, on, off]")
    flow = load_flow(path)
    option = flow.states["welcome"].options[3]
    assert option.keywords["en"] == ("other", "yes", "no", "on", "off")


# --- calls -------------------------------------------------------------------------------------------


def test_the_shipped_flow_fits_a_phone_menu() -> None:
    flow = load_flow(MAIN)
    for state in flow.states.values():
        assert len(state.options_for("voice")) <= 4
    results = flow.states["results"]
    assert [(o.key_for("voice"), o.do or o.goto) for o in results.options_for("voice")] == [
        ("1", "text_list"), ("2", "repeat"), ("3", "ask_place"), ("4", "welcome"),
    ]
    assert [(o.key_for("sms"), o.goto) for o in results.options_for("sms")] == [("1", "ask_place"), ("2", "welcome")]


def test_a_fifth_option_on_calls_is_refused_by_the_check(tmp_path: Path) -> None:
    from bot.core.flows import check_flow_file

    path = broken(tmp_path, "        set: {topic: treatment}\n        goto: ask_place\n",
                  "        set: {topic: treatment}\n        goto: ask_place\n"
                  "      - key: 5\n        label: {en: Detox, es: Detox}\n"
                  "        keywords: {en: [detox now], es: [detox ya]}\n        goto: ask_place\n")
    problems = [str(p) for p in check_flow_file(path).problems]
    assert f"{path}:{line_of(path, '  programs:')}: state 'programs' reads 5 options on a call" in "\n".join(problems)


def test_a_fifth_option_for_texts_only_is_fine(tmp_path: Path) -> None:
    path = broken(tmp_path, "        set: {topic: treatment}\n        goto: ask_place\n",
                  "        set: {topic: treatment}\n        goto: ask_place\n"
                  "      - key: 5\n        label: {en: Detox, es: Detox}\n"
                  "        keywords: {en: [detox now], es: [detox ya]}\n        channels: [sms]\n"
                  "        goto: ask_place\n")
    assert len(load_flow(path).states["programs"].options_for("sms")) == 5


@pytest.mark.parametrize(("old", "new", "message"), [
    ("      - key: 2\n        label: {en: Sober living", "      - key: 9\n        label: {en: Sober living",
     "on calls digit 9 is reserved (wait)"),
    ("        voice_key: 3\n", "        voice_key: 2\n", "digit 2 is used twice on calls"),
    ("          en: [sober living, sober house, housing]", "          en: [sober living, operator]",
     "keyword 'operator' collides with a word every call understands"),
    ("        do: text_list\n", "        do: text_it\n", "unknown `do: text_it`"),
    ("        channels: [voice]\n        do: text_list\n", "        do: text_list\n",
     "sends a text of what a caller heard: it needs `channels: [voice]`"),
    ("  goodbye:\n", "  farewell:\n", "voice_messages.farewell is not a message the engine uses"),
])
def test_call_rules_are_enforced_with_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(FlowError) as err:
        load_flow(path)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path}:")


def test_sending_the_list_by_text_only_where_resources_are_shown(tmp_path: Path) -> None:
    path = broken(tmp_path, "        set: {topic: treatment}\n        goto: ask_place\n",
                  "        set: {topic: treatment}\n        goto: ask_place\n"
                  "      - key: 8\n        label: Text me\n        channels: [voice]\n        do: text_list\n")
    with pytest.raises(FlowError, match="this state shows no resources"):
        load_flow(path)


def test_a_fourth_menu_level_on_calls_is_refused(tmp_path: Path) -> None:
    levels = "\n".join(
        f"  m{i}:\n    text: {{en: Menu {i}, es: Opciones {i}}}\n    options:\n"
        f"      - key: 1\n        label: {{en: Deeper, es: Seguir}}\n        goto: m{i + 1}\n"
        for i in range(1, 4)
    )
    text = MAIN.read_text().replace("start: welcome", "start: m1").replace(
        "states:\n", "states:\n" + levels + "  m4:\n    text: {en: Menu 4, es: Opciones 4}\n    options:\n"
        "      - key: 1\n        label: {en: Home, es: Inicio}\n        goto: welcome\n", 1)
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    with pytest.raises(FlowError) as err:
        load_flow(path)
    assert f"{path}:{line_of(path, '  m4:')}: state 'm4' is menu level 4 on calls" in str(err.value)
