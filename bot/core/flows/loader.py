"""Read a flow file (YAML) into a checked, frozen `Flow`, or say exactly what is wrong and where.

YAML 1.2 is used so `yes`, `no`, `on` and `off` stay strings (a menu with a `yes:` option must not turn
into `True:`). Every problem is reported as `file:line: message`.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from bot.core.flows.model import (
    DEFAULT_MESSAGES,
    DEFAULT_VOICE_MESSAGES,
    EXPECTS,
    LANGUAGE_KEY,
    MAX_VOICE_LEVELS,
    OPTION_ACTIONS,
    PLACEHOLDERS,
    RESERVED_WORDS,
    SHOWS,
    VOICE_KEYS,
    VOICE_WORDS,
    Flow,
    Option,
    Said,
    State,
    Text,
)
from bot.core.phrases import Phrase, PhraseError, any_of, compile_phrase
from bot.core.text import fold

_VOICE_WORDS = {w for words in VOICE_WORDS.values() for w in words}
CHANNELS = ("sms", "voice")

MESSAGE_KEYS = (
    "welcome_back",
    "not_understood",
    "place_unknown",
    "zip_unknown",
    "did_you_mean",
    "did_you_mean_many",
    "no_local",
    "nearby",
    "within",
    "national",
    "more",
    "no_more",
    "help",
    "at_start",
    "slow_down",
    "unavailable",
    "opted_out",
    "opted_in",
    "flow_changed",
    "also_in",
    "which_topic",
    "which_state",
    "offer_person",
    "go_on",
)
MESSAGE_PLACEHOLDERS = PLACEHOLDERS | {"zip", "miles", "count", "place"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, with where it is."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class FlowError(ValueError):
    """A flow file cannot be used; `problems` lists every reason, each with file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def yaml_reader() -> YAML:
    """A YAML 1.2 round-trip reader (keeps line numbers; `yes`/`no` stay strings)."""
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    return yaml


class _Reader:
    """Walks the parsed YAML, collecting problems instead of stopping at the first."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    @staticmethod
    def line_of(node: Any, key: Any = None) -> int:
        try:
            if key is not None and isinstance(node, CommentedMap):
                return int(node.lc.key(key)[0]) + 1
            if isinstance(node, CommentedSeq) and isinstance(key, int):
                return int(node.lc.item(key)[0]) + 1
            return int(node.lc.line) + 1
        except (AttributeError, KeyError, TypeError, IndexError):
            return 1

    def mapping(self, node: Any, where: str, line: int) -> CommentedMap:
        if not isinstance(node, CommentedMap):
            self.fail(line, f"{where} must be a mapping")
            return CommentedMap()
        return node

    def text(self, node: Any, where: str, line: int, languages: tuple[str, ...], required: bool = True) -> Text | None:
        if node is None:
            if required:
                self.fail(line, f"{where} is missing")
            return None
        if isinstance(node, str):
            values = {languages[0]: node}
        elif isinstance(node, CommentedMap):
            values = {}
            for lang, value in node.items():
                if lang not in languages:
                    self.fail(
                        self.line_of(node, lang), f"{where} has language {lang!r}, not in languages {list(languages)}"
                    )
                elif not isinstance(value, str) or not value.strip():
                    self.fail(self.line_of(node, lang), f"{where}.{lang} must be non-empty text")
                else:
                    values[str(lang)] = str(value)
        else:
            self.fail(line, f"{where} must be text or a mapping of language to text")
            return None
        for lang in languages:
            if lang not in values:
                self.fail(line, f"{where} has no {lang!r} text (every language the flow speaks needs one)")
        for lang, value in values.items():
            known = MESSAGE_PLACEHOLDERS if where.startswith("messages.") else PLACEHOLDERS
            self.placeholders(value, f"{where}.{lang}", line, known)
        return Text(values)

    def placeholders(self, value: str, where: str, line: int, allowed: set[str]) -> None:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError as exc:
            self.fail(line, f"{where}: bad placeholder ({exc}); write {{{{ and }}}} for literal braces")
            return
        for name in fields:
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                self.fail(line, f"{where} uses {{{name}}}, which nothing provides (known: {known})")


def read_file(path: Path) -> str:
    """A config file's text, or a `FlowError` naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([Problem(str(path), 1, f"cannot read file: {exc}")]) from exc


def read_yaml(text: str, source: str) -> Any:
    """Parse YAML 1.2 with line numbers kept, or raise a `FlowError` at the offending line."""
    try:
        return yaml_reader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise FlowError([Problem(source, line, f"not valid YAML: {exc.problem or exc.context}")]) from exc


def load_flow(path: Path) -> Flow:
    """Read and check one flow file."""
    return parse_flow(read_file(path), str(path))


def parse_flow(text: str, source: str) -> Flow:
    """Read and check a flow from YAML text; `source` names it in problems."""
    reader = _Reader(source)
    flow = _build(reader, read_yaml(text, source))
    if reader.problems or flow is None:
        raise FlowError(reader.problems or [Problem(source, 1, "empty flow file")])
    return flow


def _build(r: _Reader, raw: Any) -> Flow | None:
    root = r.mapping(raw, "the flow file", 1)
    if not root:
        return None
    name = str(root.get("flow") or "")
    if not name:
        r.fail(1, "`flow:` (the flow's name) is missing")
    langs_node = root.get("languages", ["en"])
    languages = tuple(str(x) for x in langs_node) if isinstance(langs_node, list) and langs_node else ("en",)

    messages: dict[str, Text] = {}
    msg_node = r.mapping(root.get("messages"), "messages", r.line_of(root, "messages") if "messages" in root else 1)
    for key in MESSAGE_KEYS:
        if key not in msg_node and key not in DEFAULT_MESSAGES:
            r.fail(r.line_of(root, "messages") if "messages" in root else 1, f"messages.{key} is missing")
    for key, value in msg_node.items():
        if key not in MESSAGE_KEYS:
            r.fail(r.line_of(msg_node, key), f"messages.{key} is not a message the engine uses")
            continue
        text = r.text(value, f"messages.{key}", r.line_of(msg_node, key), languages)
        if text:
            messages[str(key)] = text

    voice_messages: dict[str, Text] = {}
    if "voice_messages" in root:
        vm_node = r.mapping(root.get("voice_messages"), "voice_messages", r.line_of(root, "voice_messages"))
        for key, value in vm_node.items():
            if key not in MESSAGE_KEYS and key not in DEFAULT_VOICE_MESSAGES:
                r.fail(r.line_of(vm_node, key), f"voice_messages.{key} is not a message the engine uses")
                continue
            text = r.text(value, f"messages.{key} (voice)", r.line_of(vm_node, key), languages)
            if text:
                voice_messages[str(key)] = text

    topics: dict[str, Text] = {}
    understands: list[Said] = []
    topics_line = r.line_of(root, "topics") if "topics" in root else 1
    topic_node = r.mapping(root.get("topics", CommentedMap()), "topics", topics_line)
    for key, value in topic_node.items():
        line = r.line_of(topic_node, key)
        if isinstance(value, CommentedMap) and "label" in value:
            said = _said(r, f"topics.{key}", value, line, languages, {"label", "phrases", "goto"})
            if said is not None:
                understands.append(replace(said, name=str(key), topic=str(key), line=line))
            value = value.get("label")
        text = r.text(value, f"topics.{key}", line, languages)
        if text:
            topics[str(key)] = text
    if "answers" in root:
        answers_node = r.mapping(root.get("answers"), "answers", r.line_of(root, "answers"))
        for key, value in answers_node.items():
            line = r.line_of(answers_node, key)
            node = r.mapping(value, f"answers.{key}", line)
            said = _said(r, f"answers.{key}", node, line, languages, {"phrases", "text", "topic"})
            answer = r.text(node.get("text"), f"answers.{key}.text", line, languages)
            topic = str(node.get("topic") or "")
            if topic and topic not in topic_node:
                r.fail(line, f"answers.{key} chooses topic {topic!r}, which is not under topics")
            if said is not None and answer is not None:
                understands.append(replace(said, name=str(key), topic=topic, answer=answer, line=line))

    states_node = r.mapping(root.get("states"), "states", r.line_of(root, "states") if "states" in root else 1)
    states = {str(n): _state(r, str(n), s, r.line_of(states_node, n), languages) for n, s in states_node.items()}

    start = str(root.get("start") or "")
    if start not in states:
        r.fail(r.line_of(root, "start") if "start" in root else 1, f"start state {start!r} is not defined under states")
    results = [s.name for s in states.values() if s.show == "resources"]
    if len(results) != 1:
        states_line = r.line_of(root, "states") if "states" in root else 1
        r.fail(states_line, f"exactly one state must have `show: resources`, found {len(results)}")
    for state in states.values():
        targets = [(state.goto, state.line)] if state.goto else []
        targets += [(o.goto, o.line) for o in state.options if o.goto]
        for target, line in targets:
            if target not in states:
                r.fail(line, f"state {state.name!r} goes to {target!r}, which is not defined")
        for o in state.options:
            for key in o.sets:
                if key == "topic" and o.sets[key] not in topics:
                    r.fail(o.line, f"option {o.key!r} sets topic {o.sets[key]!r}, which is not under topics")
        if state.expect == "place" and not state.goto:
            r.fail(state.line, f"state {state.name!r} expects a place but has no `goto:` for when one is found")
        for o in state.options:
            if o.do == "text_list" and state.show != "resources":
                r.fail(o.line, f"state {state.name!r}: option {o.key} sends the resource list by text, "
                       "but this state shows no resources")
    if len(languages) > 1 and start in states:
        for o in states[start].options_for("voice"):
            if o.key_for("voice") == LANGUAGE_KEY:
                r.fail(o.line, f"state {start!r}: option {o.key}: on calls digit {LANGUAGE_KEY} at the first menu "
                       "switches language; give it another `voice_key:`")
    for said in understands:
        if said.goto and said.goto not in states:
            r.fail(said.line, f"{said.name!r} goes to {said.goto!r}, which is not defined under states")
    if not r.problems:
        _check_voice_levels(r, states, start)
    if r.problems:
        return None
    return Flow(
        name=name,
        start=start,
        languages=languages,
        states=states,
        messages=messages,
        topics=topics,
        results_state=results[0],
        source=r.path,
        voice_messages=voice_messages,
        understands=tuple(understands),
        any_said=any_of(tuple(p for said in understands for found in said.phrases.values() for p in found)),
    )


def _said(
    r: _Reader, where: str, node: CommentedMap, line: int, languages: tuple[str, ...], known: set[str]
) -> Said | None:
    """The phrases of a topic or an answer, compiled (each problem reported at its line)."""
    for key in node:
        if key not in known:
            r.fail(r.line_of(node, key), f"{where} has unknown field {key!r} (known: {', '.join(sorted(known))})")
    phrases_node = node.get("phrases")
    if not isinstance(phrases_node, CommentedMap) or not phrases_node:
        r.fail(line, f"{where}.phrases must map each language to a list of phrases")
        return None
    phrases: dict[str, tuple[Phrase, ...]] = {}
    for lang, items in phrases_node.items():
        if lang not in languages:
            r.fail(r.line_of(phrases_node, lang), f"{where}.phrases has language {lang!r}, not in languages")
            continue
        if not isinstance(items, CommentedSeq):
            r.fail(r.line_of(phrases_node, lang), f"{where}.phrases.{lang} must be a list")
            continue
        compiled = []
        for i, item in enumerate(items):
            try:
                compiled.append(compile_phrase(str(item)))
            except PhraseError as exc:
                r.fail(r.line_of(items, i), f"{where}.phrases.{lang}: {exc}")
        phrases[str(lang)] = tuple(compiled)
    any_phrase = {lang: any_of(found) for lang, found in phrases.items()}
    any_phrase["*"] = any_of(tuple(p for found in phrases.values() for p in found))
    return Said("", phrases, goto=str(node.get("goto") or ""), any_phrase=any_phrase)


def _check_voice_levels(r: _Reader, states: dict[str, State], start: str) -> None:
    """A caller hears at most `MAX_VOICE_LEVELS` menus, one inside another, before reaching what they need."""

    def is_menu(name: str) -> bool:
        return bool(states[name].options_for("voice"))

    level = {start: 1 if is_menu(start) else 0}
    queue = [start]
    while queue:
        name = queue.pop(0)
        state = states[name]
        nexts = [o.goto for o in state.options_for("voice") if o.goto] + ([state.goto] if state.goto else [])
        for target in nexts:
            if target in level or target not in states:
                continue
            level[target] = level[name] + (1 if is_menu(target) else 0)
            queue.append(target)
    for name, depth in level.items():
        if depth > MAX_VOICE_LEVELS:
            r.fail(states[name].line, f"state {name!r} is menu level {depth} on calls "
                   f"(a caller should meet at most {MAX_VOICE_LEVELS} menus, one inside another)")


def _state(r: _Reader, name: str, node: Any, line: int, languages: tuple[str, ...]) -> State:
    node = r.mapping(node, f"state {name!r}", line)
    known = {"text", "speech", "options", "expect", "goto", "show", "set"}
    for key in node:
        if key not in known:
            fields = ", ".join(sorted(known))
            r.fail(r.line_of(node, key), f"state {name!r} has unknown field {key!r} (known: {fields})")
    text = r.text(node.get("text"), f"states.{name}.text", line, languages) or Text({})
    speech = r.text(node.get("speech"), f"states.{name}.speech", line, languages, required=False)
    expect = str(node.get("expect", "choice"))
    if expect not in EXPECTS:
        r.fail(r.line_of(node, "expect") if "expect" in node else line, f"expect must be one of {sorted(EXPECTS)}")
    show = node.get("show")
    if show is not None and show not in SHOWS:
        r.fail(r.line_of(node, "show"), f"show must be one of {sorted(SHOWS)}")
    options: list[Option] = []
    opts_node = node.get("options", CommentedSeq())
    if not isinstance(opts_node, CommentedSeq):
        r.fail(r.line_of(node, "options"), f"state {name!r}: options must be a list")
        opts_node = CommentedSeq()
    seen_keys: dict[str, int] = {}
    seen_words: dict[str, Option] = {}
    for i, opt in enumerate(opts_node):
        o = _option(r, name, opt, r.line_of(opts_node, i), languages)
        if o is None:
            continue
        for channel in o.channels:
            digit = o.key_for(channel)
            first = seen_keys.get(f"{channel}:{digit}")
            if first is not None:
                on = " on calls" if channel == "voice" else ""
                r.fail(o.line, f"state {name!r}: digit {digit} is used twice{on} (first on line {first})")
            seen_keys[f"{channel}:{digit}"] = o.line
        for lang, words in o.keywords.items():
            for word in words:
                if word in RESERVED_WORDS:
                    r.fail(o.line, f"state {name!r}: keyword {word!r} collides with a global word")
                if "voice" in o.channels and word in _VOICE_WORDS:
                    r.fail(o.line, f"state {name!r}: keyword {word!r} collides with a word every call understands")
                clashes = {id(other): other for c in o.channels if (other := seen_words.get(f"{c}:{lang}:{word}"))}
                for other in clashes.values():
                    r.fail(o.line, f"state {name!r}: keyword {word!r} picks both option {other.key} and {o.key}")
                for channel in o.channels:
                    seen_words[f"{channel}:{lang}:{word}"] = o
        options.append(o)
    sets = {str(k): str(v) for k, v in dict(node.get("set") or {}).items()}
    return State(
        name=name,
        text=text,
        speech=speech,
        options=tuple(options),
        expect=expect,
        goto=str(node["goto"]) if node.get("goto") else None,
        show=str(show) if show else None,
        sets=sets,
        line=line,
    )


def _option(r: _Reader, state: str, node: Any, line: int, languages: tuple[str, ...]) -> Option | None:
    node = r.mapping(node, f"an option of state {state!r}", line)
    key = str(node.get("key", "")).strip()
    if not (len(key) == 1 and key.isdigit()):
        r.fail(line, f"state {state!r}: option key must be one keypad digit 1-9, got {key!r}")
        return None
    if key == "0":
        r.fail(line, f"state {state!r}: digit 0 is reserved for talking to a person")
    do = str(node.get("do") or "")
    if do and do not in OPTION_ACTIONS:
        known = ", ".join(sorted(OPTION_ACTIONS))
        r.fail(line, f"state {state!r}: option {key} has unknown `do: {do}` (known: {known})")
    if not node.get("goto") and not do:
        r.fail(line, f"state {state!r}: option {key} has no `goto:`")
    voice_key = str(node["voice_key"]).strip() if node.get("voice_key") is not None else None
    if voice_key is not None and not (len(voice_key) == 1 and voice_key.isdigit()):
        r.fail(line, f"state {state!r}: option {key} voice_key must be one keypad digit, got {voice_key!r}")
    label = r.text(node.get("label"), f"states.{state}.options[{key}].label", line, languages) or Text({})
    spoken = r.text(node.get("spoken"), f"states.{state}.options[{key}].spoken", line, languages, required=False)
    keywords: dict[str, tuple[str, ...]] = {}
    kw_node = node.get("keywords") or {}
    if isinstance(kw_node, list):
        kw_node = {languages[0]: kw_node}
    if not isinstance(kw_node, dict):
        r.fail(line, f"state {state!r}: option {key} keywords must be a list or a mapping of language to list")
        kw_node = {}
    for lang, words in kw_node.items():
        if lang not in languages:
            r.fail(line, f"state {state!r}: option {key} has keywords for unknown language {lang!r}")
            continue
        keywords[str(lang)] = tuple(fold(str(w)) for w in (words or []) if fold(str(w)))
    channels = tuple(str(c) for c in (node.get("channels") or CHANNELS))
    for c in channels:
        if c not in CHANNELS:
            r.fail(line, f"state {state!r}: option {key} has unknown channel {c!r}")
    if "voice" in channels:
        digit = voice_key or key
        if digit in VOICE_KEYS:
            r.fail(line, f"state {state!r}: option {key}: on calls digit {digit} is reserved "
                   f"({VOICE_KEYS[digit]}); give it another `voice_key:` or `channels: [sms]`")
    if do == "text_list" and channels != ("voice",):
        r.fail(line, f"state {state!r}: option {key} sends a text of what a caller heard: it needs `channels: [voice]`")
    return Option(
        key=key,
        label=label,
        goto=str(node.get("goto") or ""),
        keywords=keywords,
        spoken=spoken,
        sets={str(k): str(v) for k, v in dict(node.get("set") or {}).items()},
        channels=channels,
        line=line,
        voice_key=voice_key,
        do=do,
    )
