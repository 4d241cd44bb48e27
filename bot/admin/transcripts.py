"""Transcript tests: conversations admins write in YAML next to the flows, run through the real engine.

A file in `flows/tests/` holds one or more conversations:

    flow: main.yaml                  # optional; the flow file under test (default main.yaml)
    tests:
      - name: a county straight away finds local peer support
        channel: sms                 # or voice (default sms)
        steps:
          - send: volusia            # a text; on a call `press: "1"` (keys) or `say: volusia` (speech)
            state: results           # optional: where the conversation must now be
            expect:                  # what the reply must contain, in any order
              - Volusia Recovery Alliance        # a plain string: appears somewhere in the reply
              - regex: '\\(386\\) 777-PEER'      # a regular expression
              - not: Did you mean                # must NOT appear

A failing step is printed with the reply and, for a missed string, the closest line of the reply with its
differences marked, so a typo in either is plain to see.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from bot.admin.preview import sms_preview, voice_preview
from bot.core.engine import Context, Inbound, step
from bot.core.flows import Problem
from bot.core.session import Session

DEFAULT_FLOW = "main.yaml"
CHANNELS = ("sms", "voice")
INPUT_KEYS = {"send": "sms", "press": "voice", "say": "voice"}


class TranscriptError(ValueError):
    """A transcript file is malformed; `problems` says where."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Expectation:
    """One thing a reply must (or must not) contain."""

    kind: str  # "contains", "regex" or "absent"
    value: str
    line: int

    def matches(self, reply: str) -> bool:
        if self.kind == "regex":
            return re.search(self.value, reply) is not None
        if self.kind == "absent":
            return self.value not in reply
        return self.value in reply

    def __str__(self) -> str:
        return {"contains": "contain", "regex": "match", "absent": "not contain"}[self.kind] + f" {self.value!r}"


@dataclass(frozen=True)
class Step:
    """One message in, and what must come back."""

    kind: str  # send, press or say
    value: str
    line: int
    expect: tuple[Expectation, ...] = ()
    state: str | None = None

    def inbound(self, channel: str) -> Inbound:
        if self.kind == "press":
            return Inbound(digits=self.value, channel=channel)
        return Inbound(text=self.value, channel=channel)


@dataclass(frozen=True)
class Transcript:
    """A named conversation on one channel."""

    name: str
    path: str
    line: int
    flow: str
    channel: str
    language: str | None
    steps: tuple[Step, ...]

    @property
    def id(self) -> str:
        return f"{Path(self.path).name}::{self.name}"


@dataclass
class StepFailure:
    """Why a step failed, with the reply it got."""

    step: Step
    index: int
    reply: str
    state: str
    missed: list[Expectation] = field(default_factory=list)
    wrong_state: bool = False


@dataclass
class Outcome:
    """The result of running one transcript."""

    transcript: Transcript
    failure: StepFailure | None = None
    visited: set[str] = field(default_factory=set)
    replies: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failure is None


def transcript_files(tests_dir: Path) -> list[Path]:
    """The transcript files in a folder."""
    if not Path(tests_dir).is_dir():
        return []
    return sorted(p for p in Path(tests_dir).iterdir() if p.suffix in (".yaml", ".yml"))


def load_transcripts(path: Path) -> list[Transcript]:
    """Read one transcript file; malformed ones raise `TranscriptError` with file and line."""
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    where = str(path)
    try:
        doc = yaml.load(Path(path).read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise TranscriptError(
            [Problem(where, (mark.line + 1) if mark else 1, f"not valid YAML: {exc.problem}")]
        ) from exc
    problems: list[Problem] = []
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("tests"), CommentedSeq):
        raise TranscriptError([Problem(where, 1, "a transcript file needs `tests:`, a list of conversations")])
    flow = str(doc.get("flow") or DEFAULT_FLOW)
    out = []
    for i, node in enumerate(doc["tests"]):
        line = _item_line(doc["tests"], i)
        if not isinstance(node, CommentedMap):
            problems.append(Problem(where, line, "each test must be a mapping with `name` and `steps`"))
            continue
        name = str(node.get("name") or f"test {i + 1}")
        channel = str(node.get("channel") or "sms")
        if channel not in CHANNELS:
            problems.append(Problem(where, line, f"test {name!r}: channel must be sms or voice, got {channel!r}"))
        steps = list(_steps(where, name, node.get("steps"), line, problems))
        if not steps:
            problems.append(Problem(where, line, f"test {name!r} has no steps"))
        language = str(node["language"]) if node.get("language") else None
        out.append(Transcript(name, where, line, str(node.get("flow") or flow), channel, language, tuple(steps)))
    if problems:
        raise TranscriptError(problems)
    return out


def _item_line(seq: CommentedSeq, index: int) -> int:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def _steps(where: str, name: str, node: Any, line: int, problems: list[Problem]) -> Iterator[Step]:
    if not isinstance(node, CommentedSeq):
        problems.append(Problem(where, line, f"test {name!r}: `steps` must be a list"))
        return
    for i, item in enumerate(node):
        s_line = _item_line(node, i)
        if not isinstance(item, CommentedMap):
            problems.append(Problem(where, s_line, f"test {name!r}: a step must be a mapping like `send: hi`"))
            continue
        kinds = [k for k in INPUT_KEYS if k in item]
        if len(kinds) != 1:
            problems.append(Problem(where, s_line, f"test {name!r}: a step needs exactly one of send, press or say"))
            continue
        unknown = set(item) - set(INPUT_KEYS) - {"expect", "state"}
        if unknown:
            problems.append(
                Problem(where, s_line, f"test {name!r}: unknown step field(s) {', '.join(sorted(map(str, unknown)))}")
            )
        kind = kinds[0]
        expect = list(_expectations(where, name, item.get("expect"), s_line, problems))
        yield Step(kind, str(item[kind]), s_line, tuple(expect), str(item["state"]) if item.get("state") else None)


def _expectations(where: str, name: str, node: Any, line: int, problems: list[Problem]) -> Iterator[Expectation]:
    if node is None:
        return
    items = node if isinstance(node, CommentedSeq) else [node]
    for i, item in enumerate(items):
        e_line = _item_line(node, i) if isinstance(node, CommentedSeq) else line
        if isinstance(item, str):
            yield Expectation("contains", item, e_line)
        elif isinstance(item, CommentedMap) and len(item) == 1 and next(iter(item)) in ("regex", "not"):
            key = next(iter(item))
            value = str(item[key])
            if key == "regex":
                try:
                    re.compile(value)
                except re.error as exc:
                    problems.append(Problem(where, e_line, f"test {name!r}: bad regex {value!r}: {exc}"))
                    continue
            yield Expectation("regex" if key == "regex" else "absent", value, e_line)
        else:
            problems.append(Problem(where, e_line, f"test {name!r}: expect items are text, `regex: ...` or `not: ...`"))


def reply_text(ctx: Context, channel: str, turn_reply: Any) -> str:
    """The reply as the person gets it: the text message, or the words of a call."""
    if channel == "voice":
        return voice_preview(turn_reply)
    return sms_preview(turn_reply)[0]


def run_transcript(ctx: Context, transcript: Transcript) -> Outcome:
    """Play one conversation through the engine from a fresh session."""
    outcome = Outcome(transcript)
    session: Session | None = None
    if transcript.language:
        session = Session(flow=ctx.flow.name, state=ctx.flow.start, language=transcript.language)
    for index, s in enumerate(transcript.steps):
        turn = step(ctx, session, s.inbound(transcript.channel))
        session = turn.session
        outcome.visited.add(session.state)
        text = reply_text(ctx, transcript.channel, turn.reply)
        outcome.replies.append(text)
        missed = [e for e in s.expect if not e.matches(text)]
        wrong_state = s.state is not None and s.state != session.state
        if missed or wrong_state:
            outcome.failure = StepFailure(s, index, text, session.state, missed, wrong_state)
            return outcome
    return outcome


def explain(outcome: Outcome) -> str:
    """A readable account of a failed transcript: the conversation so far, and what differs."""
    f = outcome.failure
    if f is None:
        return f"PASS {outcome.transcript.id}"
    t = outcome.transcript
    out = [f"FAIL {t.id}", f"  {t.path}:{f.step.line}: step {f.index + 1} ({f.step.kind}: {f.step.value!r})"]
    for i, s in enumerate(t.steps[: f.index]):
        out.append(f"    {i + 1}. {s.kind} {s.value!r}: ok")
    if f.wrong_state:
        out.append(f"  expected to be in state {f.step.state!r}, but the conversation is in {f.state!r}")
    for e in f.missed:
        out.append(f"  {t.path}:{e.line}: expected the reply to {e}")
        if e.kind == "contains":
            out.extend("    " + line for line in closest_diff(e.value, f.reply))
    out.append("  the reply was:")
    out.extend("  | " + line for line in f.reply.splitlines())
    return "\n".join(out)


def closest_diff(expected: str, reply: str) -> list[str]:
    """The reply line nearest to the expected text, with the differences marked (difflib's ndiff)."""
    lines = [line for line in reply.splitlines() if line.strip()]
    best = difflib.get_close_matches(expected, lines, n=1, cutoff=0.4)
    if not best:
        best = difflib.get_close_matches(
            expected, [w for line in lines for w in _windows(line, len(expected))], n=1, cutoff=0.4
        )
    if not best:
        return ["(nothing in the reply is close to it)"]
    return ["closest in the reply:"] + [d.rstrip() for d in difflib.ndiff([expected], [best[0]])]


def _windows(line: str, width: int) -> list[str]:
    return [line[i : i + width] for i in range(0, max(1, len(line) - width + 1))]
