"""A flow as a diagram: Mermaid (GitHub renders it in Markdown) and Graphviz DOT, SVG or PNG.

Every state is a box (its name and the start of its text), every option an arrow labelled with its digit
and label (marked when it is only for texts or only for calls), a place question's arrow to the results,
and the global words (MENU, BACK, HELP, MORE, a place) and the topics said in words from an "any state" node.
"""

from __future__ import annotations

import shutil
import subprocess

from bot.core.flows.check import goto_fields, place_state
from bot.core.flows.model import GLOBAL_WORDS, Flow, Option

TEXT_PREVIEW = 48


class GraphvizMissing(RuntimeError):
    """SVG or PNG was asked for, but Graphviz's `dot` is not installed."""


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_PREVIEW else text[: TEXT_PREVIEW - 3].rstrip() + "..."


def _option_label(o: Option, language: str) -> str:
    label = f"{o.key} {o.label.get(language, language)}"
    if tuple(o.channels) == ("sms",):
        label += " (text only)"
    elif tuple(o.channels) == ("voice",):
        label += " (calls only)"
    elif o.key_for("voice") != o.key:
        label += f" ({o.key_for('voice')} on calls)"
    if o.do == "text_list":
        label += ": texts the list"
    elif o.do == "repeat":
        label += ": says it again"
    return label


def edges(flow: Flow) -> list[tuple[str, str, str]]:
    """(from, to, label) for every option and goto of every state."""
    lang = flow.default_language
    out = []
    for state in flow.states.values():
        for o in state.options:
            out.append((state.name, o.goto or state.name, _option_label(o, lang)))  # `do:` stays
        for name, target in goto_fields(state):
            what = "town, county or ZIP found" if state.expect == "place" and name == "goto" else name
            out.append((state.name, target, what))
    return out


def global_edges(flow: Flow) -> list[tuple[str, str]]:
    """(label, target) for the words that work in every state."""
    words = {action: "/".join(w.upper() for w in ws[:1]) for action, ws in GLOBAL_WORDS.items()}
    out = [(words.get("menu", "MENU"), flow.start), (f"{words.get('back', 'BACK')}: previous state", "")]
    out.append((f"{words.get('help', 'HELP')}: help, same state", ""))
    out.append(("a town, county or ZIP (with a topic in words: that topic)", flow.results_state))
    asking = place_state(flow)
    by_target: dict[str, list[str]] = {}
    for said in flow.understands:
        if said.topic and not said.answer:
            by_target.setdefault(said.goto or asking or flow.results_state, []).append(said.topic)
    for target, topics in by_target.items():
        named = topics[0] if len(topics) == 1 else f"{len(topics)} topics"
        out.append((f"a need in words ({named})", target))
    if asking:
        out.append(("NO to 'did you mean'", asking))
    out.append(("MORE: next page", flow.results_state))
    out.append(("on a call, 0 or 'operator': put through to the 24/7 line", ""))
    out.append(("on a call, star: say it again; 9: more time", ""))
    return out


def _state_label(flow: Flow, name: str) -> str:
    state = flow.states[name]
    text = _preview(state.text.get(flow.default_language, flow.default_language))
    tags = []
    if name == flow.start:
        tags.append("start")
    if state.show == "resources":
        tags.append("shows resources")
    if state.expect == "place":
        tags.append("asks for a place")
    head = f"{name} ({', '.join(tags)})" if tags else name
    return f"{head}\n{text}"


def mermaid(flow: Flow) -> str:
    """The flow as a Mermaid flowchart."""

    def q(text: str) -> str:
        return text.replace('"', "#quot;").replace("\n", "<br/>")

    ids = {name: f"s_{i}" for i, name in enumerate(flow.states)}
    lines = ["flowchart TD"]
    for name, node in ids.items():
        lines.append(f'    {node}["{q(_state_label(flow, name))}"]')
    for a, b, label in edges(flow):
        if b in ids:
            lines.append(f'    {ids[a]} -->|"{q(label)}"| {ids[b]}')
    stay = [label for label, target in global_edges(flow) if target not in ids]
    lines.append(f'    any(("{q(chr(10).join(["any state", *stay]))}"))')
    for label, target in global_edges(flow):
        if target in ids:
            lines.append(f'    any -.->|"{q(label)}"| {ids[target]}')
    lines.append(f"    style {ids[flow.start]} stroke-width:3px")
    return "\n".join(lines) + "\n"


def dot(flow: Flow) -> str:
    """The flow as Graphviz DOT."""

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [
        f"digraph {q(flow.name)} {{",
        "    rankdir=TB;",
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    for name in flow.states:
        extra = ", penwidth=3" if name == flow.start else ""
        lines.append(f"    {q(name)} [label={q(_state_label(flow, name))}{extra}];")
    for a, b, label in edges(flow):
        if b in flow.states:
            lines.append(f"    {q(a)} -> {q(b)} [label={q(label)}];")
    stay = [label for label, target in global_edges(flow) if target not in flow.states]
    lines.append(f'    "*any state*" [shape=ellipse, style=dashed, label={q(chr(10).join(["any state", *stay]))}];')
    for label, target in global_edges(flow):
        if target in flow.states:
            lines.append(f'    "*any state*" -> {q(target)} [style=dashed, label={q(label)}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(flow: Flow, fmt: str) -> bytes:
    """SVG or PNG through Graphviz's `dot` (not a dependency of the project: install `graphviz` to use it)."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing(
            "Graphviz's `dot` is not installed (e.g. `apt-get install graphviz`); "
            "use --format mermaid or --format dot instead"
        )
    done = subprocess.run([exe, f"-T{fmt}"], input=dot(flow).encode(), capture_output=True, check=False, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace')}")
    return done.stdout
