"""Deeper checks of a loaded flow: the mistakes a flow file can make that still load.

`loader` refuses what cannot run (bad YAML, unknown targets, duplicate digits, unknown placeholders).
What loads can still strand a person or cost too much: a state nobody can reach, a state with no way back
to the menu, `{county}` shown before anyone chose a county, a language with fewer keywords than the
default one, a voice menu too long to remember, or a text whose worst case runs over the segment budget.
This module finds those, each as `file:line: message`, measuring texts with the real renderer and the
real segment counter. It reads a flow's fields generically (every `Text` on a state or option, every
`goto`-like field), so fields added to the flow model later are checked without changes here.
"""

from __future__ import annotations

import dataclasses
import string
from collections import deque
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.core.directory import Resource
from bot.core.engine import MORE
from bot.core.flows.loader import Problem, yaml_reader
from bot.core.flows.model import RESERVED_WORDS, Flow, Option, State, Text
from bot.core.language import offered
from bot.core.phrases import Phrase
from bot.core.render import fit, sms_text, with_offer
from bot.core.reply import Choice, Hotlines, Reply, Section
from bot.core.segments import MAX_SMS_CHARS, SegmentCount, count, is_gsm7
from bot.core.text import fold

VOICE_MAX_OPTIONS = 4
"""A caller holds at most four "for X, press N" in mind."""

ALWAYS_FILLED = {"program", "topic", "hotline", "samhsa"}
"""Placeholders the engine fills in every state (`topic` falls back to peer support)."""

FILLED_ON_ENTRY = {"county": "results"}
"""Placeholders the engine sets itself when a state is entered (the results state sets the county)."""

MESSAGE_VALUES: dict[str, set[str] | None] = {
    "welcome_back": set(),
    "flow_changed": set(),
    "not_understood": set(),
    "place_unknown": set(),
    "zip_unknown": {"zip"},
    "did_you_mean": {"county"},
    "did_you_mean_many": set(),
    "no_local": ALWAYS_FILLED | {"county"},
    "nearby": ALWAYS_FILLED | {"county", "miles"},
    "within": ALWAYS_FILLED | {"county", "miles", "zip"},
    "national": ALWAYS_FILLED | {"county"},
    "more": {"count"},
    "no_more": set(),
    "help": ALWAYS_FILLED | {"county"},
    "at_start": set(),
    "slow_down": set(),
    "unavailable": set(),
    "opted_out": {"program"},
    "opted_in": {"program"},
}
"""What the engine fills into each message (see `engine.py`); a message not listed is not checked."""

@dataclass(frozen=True)
class Measured:
    """The worst case of one text in one language, as the segment check measured it."""

    language: str
    what: str
    line: int
    segments: SegmentCount
    case: str
    body: str


WORST_ZIP = "00000"
WORST_MILES = "120"
WORST_COUNT = "999"


@dataclass(frozen=True)
class Budget:
    """What the segment check measures against: the footer, the budget and the longest real values."""

    hotlines: Hotlines
    segments: int
    resources: tuple[Resource, ...] = ()
    county_labels: tuple[str, ...] = ()
    served_labels: tuple[str, ...] = ()
    town_labels: tuple[str, ...] = ()
    county_names: frozenset[str] = frozenset()
    """Folded county names ("volusia", "st johns"): a topic phrase that is one would hide the county."""


def check_flow(flow: Flow, budget: Budget | None = None, categories: Collection[str] | None = None) -> list[Problem]:
    """Every problem found in a loaded flow, in file order; `budget` and `categories` add the data-aware checks."""
    c = _Checker(flow)
    c.reachability()
    c.dead_ends()
    c.voice_menus()
    c.keywords()
    c.languages()
    c.encoding()
    c.placeholders()
    c.phrases(budget.county_names if budget is not None else frozenset())
    if categories is not None:
        c.topics_exist(categories)
    if budget is not None:
        c.segments(budget)
    return sorted(set(c.problems), key=lambda p: (p.line, p.message))


def segment_report(flow: Flow, budget: Budget) -> list[Measured]:
    """The worst case of every state and question, in every language the flow speaks, in file order."""
    c = _Checker(flow)
    c.segments(budget)
    return c.measured


def text_fields(obj: State | Option) -> Iterator[tuple[str, Text]]:
    """Every `Text` a state or option carries (text, speech, label, spoken, and any added later)."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, Text):
            yield f.name, value


def goto_fields(state: State) -> Iterator[tuple[str, str]]:
    """The state's own `goto`-like fields and their targets (`goto`, and e.g. `timeout_goto` if added)."""
    for f in dataclasses.fields(state):
        value = getattr(state, f.name)
        if (
            isinstance(value, str)
            and value
            and (f.name == "goto" or f.name.endswith("_goto") or f.name.startswith("goto_"))
        ):
            yield f.name, value


def transitions(flow: Flow, channel: str | None = None) -> dict[str, list[tuple[str, str, int]]]:
    """For each state, where its options and gotos lead: (target, what leads there, line)."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    for state in flow.states.values():
        edges = []
        options = state.options if channel is None else state.options_for(channel)
        for o in options:
            edges.append((o.goto, f"option {o.key}", o.line))
        for name, target in goto_fields(state):
            edges.append((target, name, state.line))
        out[state.name] = [e for e in edges if e[0] in flow.states]
    return out


def place_state(flow: Flow) -> str | None:
    """The state that asks for a county or ZIP (where "no" to "did you mean" leads)."""
    return next((s.name for s in flow.states.values() if s.expect == "place"), None)


def reachable(flow: Flow, channel: str | None = None, *, global_words: bool = True) -> dict[str, list[str]]:
    """States reachable from the start, each with one shortest path to it."""
    edges = transitions(flow, channel)
    anywhere = [flow.results_state, place_state(flow)] if global_words else []
    paths = {flow.start: [flow.start]}
    queue = deque([flow.start])
    while queue:
        name = queue.popleft()
        for target in [t for t, _, _ in edges[name]] + [a for a in anywhere if a]:
            if target not in paths:
                paths[target] = paths[name] + [target]
                queue.append(target)
    return paths


class _Checker:
    def __init__(self, flow: Flow):
        self.flow = flow
        self.path = flow.source or flow.name
        self.problems: list[Problem] = []
        self.measured: list[Measured] = []
        self._lines = _key_lines(Path(flow.source)) if flow.source else {}

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def line(self, *keys: str) -> int:
        for n in range(len(keys), 0, -1):
            if keys[:n] in self._lines:
                return self._lines[keys[:n]]
        return 1

    # -- the shape of the conversation --------------------------------------------------------------------

    def reachability(self) -> None:
        seen = reachable(self.flow)
        for state in self.flow.states.values():
            if state.name not in seen:
                self.fail(
                    state.line,
                    f"state {state.name!r} is unreachable: no option or goto leads to it from {self.flow.start!r}",
                )

    def dead_ends(self) -> None:
        flow = self.flow
        for channel, how in (("sms", "by text"), ("voice", "on a call")):
            edges = transitions(flow, channel)
            back_home = _reaching(flow.start, edges)
            for name in reachable(flow, channel):
                if name not in back_home:
                    state = flow.states[name]
                    self.fail(
                        state.line,
                        f"state {name!r} is a dead end {how}: none of its options leads back to {flow.start!r} "
                        f"(add an option such as 'Main menu' that goes there)",
                    )

    def voice_menus(self) -> None:
        for state in self.flow.states.values():
            voice = state.options_for("voice")
            if len(voice) > VOICE_MAX_OPTIONS:
                keys = ", ".join(o.key for o in voice)
                self.fail(
                    state.line,
                    f"state {state.name!r} reads {len(voice)} options on a call ({keys}); at most {VOICE_MAX_OPTIONS} "
                    f"(mark some `channels: [sms]` or split the menu)",
                )

    def keywords(self) -> None:
        for state in self.flow.states.values():
            keys = {o.key for o in state.options}
            for o in state.options:
                for words in o.keywords.values():
                    for word in words:
                        if word in keys and word != o.key:
                            self.fail(
                                o.line,
                                f"state {state.name!r}: keyword {word!r} of option {o.key} is option {word}'s digit",
                            )
                        if state.show == "resources" and word in MORE:
                            self.fail(
                                o.line,
                                f"state {state.name!r}: keyword {word!r} of option {o.key} is taken by MORE "
                                "(the next page of results)",
                            )

    def phrases(self, county_names: Collection[str]) -> None:
        """A phrase two topics share, or one that would take a global word or a county name from the message."""
        owner: dict[tuple[str, str], str] = {}
        reserved = sorted(RESERVED_WORDS | set(MORE))
        for said in self.flow.understands:
            where = f"{'answers' if said.answer is not None else 'topics'}.{said.name}"
            for lang, phrases in said.phrases.items():
                for phrase in phrases:
                    key = (lang, fold(phrase.source))
                    first = owner.setdefault(key, said.name)
                    if first != said.name:
                        self.fail(said.line, f"{where}: phrase {phrase.source!r} is also {first!r}'s; say which one")
                    for word in reserved:
                        if _whole(phrase, word):
                            self.fail(said.line, f"{where}: phrase {phrase.source!r} takes the global word {word!r}")
                    for name in county_names:
                        if _whole(phrase, name):
                            self.fail(said.line, f"{where}: phrase {phrase.source!r} is the county name {name!r}, "
                                      "so a message naming that county would not be read as a place")

    def languages(self) -> None:
        flow = self.flow
        default = flow.default_language
        for state in flow.states.values():
            for owner, line, where in [(state, state.line, f"states.{state.name}")] + [
                (o, o.line, f"states.{state.name}.options[{o.key}]") for o in state.options
            ]:
                for field, text in text_fields(owner):
                    for lang in flow.languages[1:]:
                        if text.by_language.get(default) and not text.by_language.get(lang):
                            self.fail(line, f"{where}.{field} has no {lang!r} text, though {default!r} has one")
        # Words that pick an option or a topic, which a language may not lack where the default has some.
        lists: list[tuple[int, str, dict[str, Any], str]] = [
            (o.line, f"state {state.name!r}: option {o.key} has keywords", o.keywords, "can only use the digit")
            for state in flow.states.values()
            for o in state.options
        ]
        lists += [
            (said.line, f"{'topics' if said.answer is None else 'answers'}.{said.name} has phrases", said.phrases,
             "never find it")
            for said in flow.understands
        ]
        for line, what, by_language, otherwise in lists:
            for lang in flow.languages[1:]:
                if by_language.get(default) and not by_language.get(lang):
                    self.fail(line, f"{what} in {default!r} but none in {lang!r} "
                              f"(people writing in {lang!r} {otherwise})")

    def encoding(self) -> None:
        """Every text a phone shows keeps to GSM-7: one letter outside it (á, í, ó, ú in Spanish) makes the
        whole message UCS-2, 70 characters a segment, footer and list included. Calls may use any letter."""
        flow = self.flow
        shown: list[tuple[str, int, Text]] = []
        for state in flow.states.values():
            shown.append((f"states.{state.name}.text", state.line, state.text))
            shown += [(f"states.{state.name}.options[{o.key}].label", o.line, o.label) for o in state.options]
        shown += [(f"messages.{key}", self.line("messages", key), text) for key, text in flow.messages.items()]
        shown += [(f"topics.{key}", self.line("topics", key), text) for key, text in flow.topics.items()]
        shown += [(f"answers.{s.name}.text", s.line, s.answer) for s in flow.understands if s.answer is not None]
        for where, line, text in shown:
            for lang, value in text.by_language.items():
                odd = [w.strip(".,:;!?()\"'") for w in value.split() if not is_gsm7(w)]
                if odd:
                    letter = next(ch for ch in odd[0] if not is_gsm7(ch))
                    self.fail(
                        line,
                        f"{where}.{lang} has {letter!r} (in {odd[0]!r}), which GSM-7 lacks: it makes the whole "
                        "text UCS-2, 70 characters a segment; choose a word without it (é, ñ, ü, ¿ and ¡ are GSM-7)",
                    )

    def placeholders(self) -> None:
        flow = self.flow
        known = _known_vars(flow)
        for state in flow.states.values():
            for owner, line, where in [(state, state.line, f"states.{state.name}")] + [
                (o, o.line, f"states.{state.name}.options[{o.key}]") for o in state.options
            ]:
                for field, text in text_fields(owner):
                    for lang, value in text.by_language.items():
                        for name in sorted(_fields(value)):
                            if name in ALWAYS_FILLED or name in known.get(state.name, set()):
                                continue
                            if name in FILLED_ON_ENTRY or name in _set_anywhere(flow):
                                path = _path_without(flow, state.name, name)
                                how = (
                                    "a conversation starts here"
                                    if len(path) == 1
                                    else f"the state is reached by {' -> '.join(path)}"
                                )
                                self.fail(
                                    line, f"{where}.{field}.{lang} uses {{{name}}}, which is still empty when {how}"
                                )
        for key, text in flow.messages.items():
            allowed = MESSAGE_VALUES.get(key)
            if allowed is None:
                continue
            for lang, value in text.by_language.items():
                for name in sorted(_fields(value) - allowed):
                    filled = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none: it is shown as written"
                    self.fail(
                        self.line("messages", key),
                        f"messages.{key}.{lang} uses {{{name}}}, which this message never fills in (it fills {filled})",
                    )

    def topics_exist(self, categories: Collection[str]) -> None:
        for topic in self.flow.topics:
            if topic not in categories:
                self.fail(
                    self.line("topics", topic),
                    f"topic {topic!r} is not a category in the data (categories.yaml), so its search finds nothing",
                )

    # -- the worst case of every text ------------------------------------------------------------------------

    def segments(self, budget: Budget) -> None:
        flow = self.flow
        for lang in flow.languages:
            worst = _worst_values(flow, budget, lang)
            for state in flow.states.values():
                notices = _notices(flow, state, lang, worst)
                cases = list(self._state_replies(state, lang, worst, notices, budget))
                self._measure(cases, budget, state.line, f"state {state.name!r}", lang)
            for key, reply in _question_replies(flow, lang, budget):
                self._measure([(reply, "")], budget, self.line("messages", key), f"messages.{key}", lang)

    def _state_replies(
        self, state: State, lang: str, worst: dict[str, str], notices: list[str], budget: Budget
    ) -> Iterator[tuple[Reply, str]]:
        flow = self.flow
        h = budget.hotlines
        text = _cap(_format(state.text.get(lang, flow.default_language), worst))
        choices = tuple(Choice(o.key, o.label.get(lang, flow.default_language), "") for o in state.options_for("sms"))
        offer = offered(flow.languages, lang) if state.name == flow.start else ""
        for notice in notices:
            base = Reply(h, text=text, notice=notice, choices=choices, expect=state.expect, language=lang)
            if offer:
                base = with_offer(base, offer, "sms", budget.segments)
            if state.show != "resources":
                yield base, (f"with the notice {_short(notice)}" if notice else "")
                continue
            for reply, shape in _result_shapes(flow, lang, base, worst, budget):
                yield reply, f"{shape}, with the notice {_short(notice)}" if notice else shape

    def _measure(self, cases: list[tuple[Reply, str]], budget: Budget, line: int, what: str, lang: str) -> None:
        """Keep the worst of a text's cases; report it, once, if it is over the budget."""
        worst: tuple[int, int, str, str, SegmentCount] | None = None
        for reply, case in cases:
            body = sms_text(reply)
            measured = count(body)
            key = (measured.segments, measured.units, case, body, measured)
            if worst is None or key[:2] > worst[:2]:
                worst = key
        if worst is None:
            return
        segments, _, case, body, measured = worst
        self.measured.append(Measured(lang, what, line, measured, case, body))
        if segments <= budget.segments and len(body) <= MAX_SMS_CHARS:
            return
        when = f" ({case})" if case else ""
        self.fail(line, f"{what} ({lang}) can take {_describe(measured, body)}{when}; the budget is {budget.segments}")


def _whole(phrase: Phrase, text: str) -> bool:
    hit = phrase.search(text)
    return hit is not None and hit.span() == (0, len(text))


def _describe(measured: SegmentCount, body: str) -> str:
    why = ""
    if measured.encoding != "GSM-7":
        odd = next((ch for ch in body if not is_gsm7(ch)), "")
        why = f", because {odd!r} is not a GSM-7 character"
    over = f", {len(body)} characters (Twilio's limit is {MAX_SMS_CHARS})" if len(body) > MAX_SMS_CHARS else ""
    return f"{measured}{why}{over}"


def _short(text: str, width: int = 40) -> str:
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _result_shapes(
    flow: Flow, lang: str, base: Reply, worst: dict[str, str], budget: Budget
) -> Iterator[tuple[Reply, str]]:
    """The results state's worst cases, cut to the budget by the real `fit`, with the real MORE hint."""
    resources = tuple(
        sorted(budget.resources, key=lambda r: -len(sms_text(Reply(budget.hotlines, sections=(Section("", (r,)),)))))
    )
    national = flow.message("national", lang).format_map(_Values(worst))
    no_local = _cap(flow.message("no_local", lang).format_map(_Values(worst)))
    served = max(budget.served_labels or budget.county_labels or ("",), key=len)
    nearby = flow.message("nearby", lang).format_map(_Values(worst, county=served, miles=WORST_MILES))
    shapes = {
        "with local listings": (Section("", resources), Section(national, resources)),
        "with no local listing": (
            Section(no_local, ()),
            Section(nearby, resources),
            Section(nearby, resources),
            Section(national, resources),
        ),
    }
    hint = flow.message("more", lang).format_map(_Values(count=WORST_COUNT))
    for shape, sections in shapes.items():
        # As the engine does: with no local listing, the state's own text gives way to the `no_local` line.
        reply = replace(base, sections=sections, text=base.text if sections[0].resources else "")
        if not resources:
            yield reply, shape
            continue
        fitted, _ = fit(reply, "sms", budget.segments, more_hint=hint)
        yield replace(fitted, hint=hint if fitted.more else ""), f"{shape} (after the list is cut to fit)"


def _question_replies(flow: Flow, lang: str, budget: Budget) -> Iterator[tuple[str, Reply]]:
    labels = budget.county_labels or ("",)
    longest = max(labels, key=len)
    h = budget.hotlines
    question = flow.message("did_you_mean", lang).format_map(_Values(county=longest))
    yield "did_you_mean", Reply(h, text=question, expect="confirm", language=lang)
    three = tuple(sorted(labels, key=len, reverse=True)[:3])
    choices = tuple(Choice(str(i), label, label) for i, label in enumerate(three, 1))
    yield "did_you_mean_many", Reply(h, text=flow.message("did_you_mean_many", lang), choices=choices, language=lang)
    topics = sorted((_cap(flow.topic_label(t, lang)) for t in flow.topics), key=len, reverse=True)[:4]
    topic_choices = tuple(Choice(str(i), label, label) for i, label in enumerate(topics, 1))
    yield "which_topic", Reply(h, text=flow.message("which_topic", lang), choices=topic_choices, language=lang)
    town = max(budget.town_labels or labels, key=len)
    which = flow.message("which_state", lang).format_map(_Values(place=town.split(",")[0]))
    town_choices = tuple(Choice(str(i), f"{town} ({longest})", "") for i in (1, 2, 3))
    yield "which_state", Reply(h, text=which, choices=town_choices, language=lang)
    for said in flow.understands:
        if said.answer is not None and not said.topic:
            answer = said.answer.get(lang, flow.default_language)
            yield "go_on", Reply(h, text=answer, hint=flow.message("go_on", lang), expect="none", language=lang)


def _notices(flow: Flow, state: State, lang: str, worst: dict[str, str]) -> list[str]:
    """Every notice the engine can put above this state's text (as `engine.step` composes them)."""

    def msg(key: str) -> str:
        return flow.message(key, lang).format_map(_Values(worst, zip=WORST_ZIP)) if key in flow.messages else ""

    singles = [msg(k) for k in ("help", "not_understood", "zip_unknown")]
    singles.append(f"{msg('not_understood')} {msg('offer_person')}".strip())
    if state.expect == "place":
        singles.append(msg("place_unknown"))
    if state.show == "resources":
        singles.append(msg("no_more"))
    if state.expect == "place" or state.show == "resources":
        # An answer that goes on to a topic ("I slipped": a line of encouragement, then where?) stands above it.
        singles += [s.answer.get(lang, flow.default_language) for s in flow.understands if s.answer and s.topic]
    notices = ["", msg("welcome_back"), *singles]
    if state.name == flow.start:
        # A conversation that starts over reads its first message at the start: "Welcome back." + HELP.
        notices += [msg("flow_changed"), msg("at_start")]
        notices += [f"{msg('welcome_back')} {m}".strip() for m in (msg("help"), msg("at_start"), msg("zip_unknown"))]
    return sorted(set(notices), key=len)


def _worst_values(flow: Flow, budget: Budget, lang: str) -> dict[str, str]:
    h = budget.hotlines.in_language(lang)
    topics = [flow.topic_label(t, lang) for t in flow.topics] or [""]
    return {
        "program": h.program,
        "topic": max(topics, key=len),
        "county": max(budget.county_labels or ("",), key=len),
        "hotline": f"{h.hotline_name} {h.hotline.text}",
        "samhsa": f"{h.samhsa_name} {h.samhsa.text}",
    }


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _format(template: str, values: dict[str, str]) -> str:
    return template.format_map(_Values(values))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fields(template: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f}
    except ValueError:
        return set()  # the loader reports malformed braces


def _reaching(target: str, edges: dict[str, list[tuple[str, str, int]]]) -> set[str]:
    """States from which `target` can be reached by options and gotos alone."""
    into: dict[str, set[str]] = {name: set() for name in edges}
    for name, out in edges.items():
        for t, _, _ in out:
            into.setdefault(t, set()).add(name)
    seen = {target}
    queue = deque([target])
    while queue:
        for prev in into.get(queue.popleft(), ()):
            if prev not in seen:
                seen.add(prev)
                queue.append(prev)
    return seen


def _set_anywhere(flow: Flow) -> set[str]:
    names: set[str] = set()
    for state in flow.states.values():
        names |= set(state.sets)
        for o in state.options:
            names |= set(o.sets)
    return names


def _provides(flow: Flow, state: State) -> set[str]:
    given = set(state.sets)
    given |= {var for var, where in FILLED_ON_ENTRY.items() if where == "results" and state.name == flow.results_state}
    return given


def _known_vars(flow: Flow) -> dict[str, set[str]]:
    """For each state, the variables set on every way into it (a new conversation starts with none)."""
    edges: list[tuple[str, str, set[str]]] = []
    for state in flow.states.values():
        for o in state.options:
            edges.append((state.name, o.goto, set(o.sets)))
        for _, target in goto_fields(state):
            edges.append((state.name, target, set()))
        for anywhere in (flow.results_state, place_state(flow)):
            if anywhere:
                edges.append((state.name, anywhere, set()))
    everything = _set_anywhere(flow) | set(FILLED_ON_ENTRY)
    known_in: dict[str, set[str]] = {name: set(everything) for name in flow.states}
    known_in[flow.start] = set()
    changed = True
    while changed:
        changed = False
        for source, target, sets in edges:
            if target not in known_in:
                continue
            out = known_in[source] | _provides(flow, flow.states[source]) | sets
            narrowed = known_in[target] & out if target != flow.start else set()
            if narrowed != known_in[target]:
                known_in[target] = narrowed
                changed = True
    return {name: known_in[name] | _provides(flow, flow.states[name]) for name in flow.states}


def _path_without(flow: Flow, goal: str, var: str) -> list[str]:
    """A shortest way from the start to `goal` on which `var` is never set (for the message)."""
    paths = {flow.start: [flow.start]}
    queue = deque([flow.start])
    while queue:
        name = queue.popleft()
        if name == goal:
            return paths[name]
        state = flow.states[name]
        steps = [(o.goto, o.sets) for o in state.options] + [(t, {}) for _, t in goto_fields(state)]
        for target, sets in steps:
            if (
                target in flow.states
                and target not in paths
                and var not in sets
                and var not in _provides(flow, flow.states[target])
            ):
                paths[target] = paths[name] + [target]
                queue.append(target)
    return [flow.start, "...", goal]


def _key_lines(path: Path) -> dict[tuple[str, ...], int]:
    """Line numbers of the mappings in a flow file, by key path: ("messages", "help") -> 142."""
    try:
        root = yaml_reader().load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - a file that loaded once and vanished since still gets line 1
        return {}
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: Any, prefix: tuple[str, ...]) -> None:
        if not hasattr(node, "lc") or not isinstance(node, dict):
            return
        for key in node:
            try:
                lines[(*prefix, str(key))] = int(node.lc.key(key)[0]) + 1  # type: ignore[attr-defined]
            except (KeyError, TypeError, AttributeError):
                continue
            if len(prefix) < 2:
                walk(node[key], (*prefix, str(key)))

    walk(root, ())
    return lines


def longest_resources(resources: Sequence[Resource], hotlines: Hotlines, keep: int = 5) -> tuple[Resource, ...]:
    """The listings with the longest lines, plus the longest one that forces UCS-2, for the budget check."""

    def size(r: Resource) -> int:
        return len(sms_text(Reply(hotlines, sections=(Section("", (r,)),))))

    ranked = sorted(resources, key=size, reverse=True)
    chosen = list(ranked[:keep])
    wide = next((r for r in ranked if not is_gsm7(sms_text(Reply(hotlines, sections=(Section("", (r,)),))))), None)
    if wide is not None and wide not in chosen:
        chosen.append(wide)
    return tuple(chosen)
