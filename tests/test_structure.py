"""The shape of `bot/`, read from its source with `ast` (nothing is imported): the import graph has no cycle,
imports inside functions included, and no module reaches for `contextvars` to carry state between layers."""

from __future__ import annotations

import ast
from pathlib import Path

import bot

ROOT = Path(bot.__file__).resolve().parent
SERVING = ("bot.web", "bot.wiring", "bot.reloader", "bot.helpline", "bot.faults", "bot.storage")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of `bot/` (Alembic's migration scripts are not imported by anything)."""
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "migrations" not in p.parts}


def imported(name: str, path: Path) -> set[str]:
    """Every module name an `import` anywhere in the file names, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the modules of `bot/` it imports (a name that is an attribute counts as its module)."""
    mods = modules()

    def resolve(target: str) -> str | None:
        while target:
            if target in mods:
                return target
            target = target.rpartition(".")[0]
        return None

    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets = {resolve(t) for t in imported(name, path) if t.split(".")[0] == "bot"}
        edges[name] = {t for t in targets if t is not None and t != name}
    return edges


def cycle_in(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the modules along it, or None. A package importing its own submodules (to
    expose them) is no cycle: the edge from a submodule to its own package is left out."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_graph_reads_lazy_imports_too() -> None:
    edges = graph()
    assert "bot.storage.gazetteer_cache" in edges["bot.admin.cli"]  # imported inside a function there
    assert len(edges) > 40


def test_the_import_graph_of_bot_has_no_cycle() -> None:
    cycle = cycle_in(graph())
    assert cycle is None, " -> ".join(cycle or ())


def test_the_cycle_finder_finds_one() -> None:
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"p": {"p.x"}, "p.x": {"p"}}) is None


def test_the_serving_path_does_not_import_the_admin_tools() -> None:
    edges = graph()
    serving = [m for m in edges if any(m == s or m.startswith(s + ".") for s in SERVING)]
    assert serving
    offending = {m: sorted(t for t in edges[m] if t.startswith("bot.admin")) for m in serving}
    assert {m: t for m, t in offending.items() if t} == {}


def test_no_module_uses_contextvars() -> None:
    users = sorted(n for n, p in modules().items() if any(t.split(".")[0] == "contextvars" for t in imported(n, p)))
    assert users == []


def test_storage_imports_only_the_core_and_itself() -> None:
    edges = graph()
    storage = [m for m in edges if m.startswith("bot.storage")]
    assert storage
    above = {m: sorted(t for t in edges[m] if t.startswith("bot.") and not t.startswith(
        ("bot.storage", "bot.core", "bot.config", "bot.faults"))) for m in storage}
    assert {m: t for m, t in above.items() if t} == {}
