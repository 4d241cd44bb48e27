"""Scoring the crisis screen against labelled statements: recall, false positives, and every miss.

The set (by default `tests/crisis/statements.yaml`) holds statements by language and class: `at_risk` (any crisis
answer is right), `emergency` (the answer must start with 911), `idiom` and `need` (no crisis answer is right).
`helpline flows crisis-eval` prints the scores; `helpline flows check` turns a shortfall into a problem, so an
admin who weakens `flows/crisis.yaml` is told before the edit is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.config import PROJECT_ROOT
from bot.core.flows.loader import FlowError, Problem, read_file, read_yaml
from bot.core.safety import CrisisMatch, CrisisScreen

CLASSES = ("at_risk", "emergency", "idiom", "need")
CRISIS_CLASSES = ("at_risk", "emergency")
RECALL_TARGET = 0.98
FALSE_POSITIVE_LIMIT = 0.03
DEFAULT_SET = PROJECT_ROOT / "tests" / "crisis" / "statements.yaml"


@dataclass(frozen=True)
class Statement:
    text: str
    language: str
    label: str
    line: int


@dataclass(frozen=True)
class Outcome:
    """What the screen made of one statement, and whether that is right for its class."""

    statement: Statement
    match: CrisisMatch | None

    @property
    def right(self) -> bool:
        label, match = self.statement.label, self.match
        if label == "at_risk":
            return match is not None
        if label == "emergency":
            return match is not None and match.level == "emergency"
        return match is None


@dataclass(frozen=True)
class Score:
    """One class in one language: recall for the crisis classes, the false-positive rate for the others."""

    language: str
    label: str
    total: int
    right: int

    @property
    def crisis(self) -> bool:
        return self.label in CRISIS_CLASSES

    @property
    def rate(self) -> float:
        if not self.total:
            return 1.0 if self.crisis else 0.0
        return (self.right if self.crisis else self.total - self.right) / self.total

    @property
    def ok(self) -> bool:
        return self.rate >= RECALL_TARGET if self.crisis else self.rate <= FALSE_POSITIVE_LIMIT

    def describe(self, width: int = 0) -> str:
        what = "recall" if self.crisis else "false positives"
        target = f">= {RECALL_TARGET:.2f}" if self.crisis else f"<= {FALSE_POSITIVE_LIMIT:.0%}"
        shown = f"{self.rate:.3f}" if self.crisis else f"{self.rate:.1%}"
        wrong = self.total - self.right
        return f"{self.language} {self.label:<{width}} {what} {shown} ({wrong} of {self.total} wrong; target {target})"


@dataclass(frozen=True)
class Evaluation:
    outcomes: tuple[Outcome, ...]
    scores: tuple[Score, ...]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.right]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.scores)

    def shortfalls(self) -> list[str]:
        return [s.describe() for s in self.scores if not s.ok]


def load_statements(path: Path) -> list[Statement]:
    """Read a labelled set: `statements: {language: {class: [text, ...]}}`; problems as `file:line: message`."""
    where = str(path)
    raw = read_yaml(read_file(path), where)
    node = raw.get("statements") if isinstance(raw, CommentedMap) else None
    if not isinstance(node, CommentedMap):
        raise FlowError([Problem(where, 1, "give `statements:` by language, then by class")])
    problems: list[Problem] = []
    out: list[Statement] = []
    for language, classes in node.items():
        if not isinstance(classes, CommentedMap):
            problems.append(Problem(where, _line(node, language), f"{language}: give the statements by class"))
            continue
        for label, items in classes.items():
            if label not in CLASSES:
                problems.append(Problem(where, _line(classes, label), f"{language}.{label}: class is one of {CLASSES}"))
                continue
            if not isinstance(items, CommentedSeq):
                problems.append(Problem(where, _line(classes, label), f"{language}.{label}: give a list of texts"))
                continue
            for index, text in enumerate(items):
                line = int(items.lc.item(index)[0]) + 1
                if not isinstance(text, str) or not text.strip():
                    problems.append(Problem(where, line, f"{language}.{label}: a statement is a line of text"))
                    continue
                out.append(Statement(text, str(language), str(label), line))
    if problems:
        raise FlowError(problems)
    return out


def _line(node: CommentedMap, key: object) -> int:
    return int(node.lc.key(key)[0]) + 1


def evaluate(screen: CrisisScreen, statements: list[Statement]) -> Evaluation:
    """Read every statement with the screen and score each class in each language."""
    outcomes = tuple(Outcome(s, screen.match(s.text)) for s in statements)
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault((outcome.statement.language, outcome.statement.label), []).append(outcome)
    order = {label: i for i, label in enumerate(CLASSES)}
    scores = tuple(
        Score(language, label, len(group), sum(o.right for o in group))
        for (language, label), group in sorted(groups.items(), key=lambda kv: (kv[0][0], order[kv[0][1]]))
    )
    return Evaluation(outcomes, scores)


def explain(outcome: Outcome) -> str:
    """One miss: where the statement is, what it is, and what the screen made of it."""
    s, match = outcome.statement, outcome.match
    if match is None:
        heard = "no crisis heard"
    else:
        heard = f"read as {match.category} ({match.level}) by {match.language}: {match.phrase!r}"
    return f"line {s.line}: [{s.language} {s.label}] {s.text!r}: {heard}"


def report(evaluation: Evaluation, source: str) -> list[str]:
    """What `helpline flows crisis-eval` prints."""
    lines = [f"{len(evaluation.outcomes)} statements from {source}"]
    width = max(len(label) for label in CLASSES)
    lines += [("  " if s.ok else "! ") + s.describe(width) for s in evaluation.scores]
    misses = evaluation.misses
    lines.append(f"{len(misses)} miss(es)" + (":" if misses else ""))
    lines += ["  " + explain(o) for o in misses]
    return lines


def check(screen: CrisisScreen, crisis_file: Path, statements_file: Path) -> list[Problem]:
    """The shortfalls against a labelled set, as problems of the crisis file (for `helpline flows check`)."""
    try:
        statements = load_statements(statements_file)
    except FlowError as exc:
        return list(exc.problems)
    evaluation = evaluate(screen, statements)
    return [
        Problem(str(crisis_file), 1, f"on {statements_file}: {shortfall}; `helpline flows crisis-eval` lists misses")
        for shortfall in evaluation.shortfalls()
    ]
