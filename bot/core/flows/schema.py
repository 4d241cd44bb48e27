"""The flow file's JSON Schema (`schemas/flow.schema.json`), applied with YAML line numbers.

The schema describes the shape of a flow file for editors (completion and red squiggles as you type) and
for `helpline flows check`, which reports each violation as `file:line: where: what`, at the line of the
offending key or item. It types the fields it knows and leaves unknown state and option fields to the
loader, which names the fields it accepts, so fields added to the flow model later need no schema change
to keep loading.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from bot.core.flows.loader import Problem, yaml_reader

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "flow.schema.json"


@cache
def validator() -> Draft202012Validator:
    """The compiled schema (read once per process)."""
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def schema_problems(text: str, path: str) -> list[Problem]:
    """Every place where the YAML text breaks the schema; nothing for text that is not YAML (the loader says so)."""
    try:
        doc = yaml_reader().load(text)
    except YAMLError:
        return []
    out = []
    for error in validator().iter_errors(doc):
        steps = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            extra = [k for k in error.instance if k not in known]
            steps += extra[:1]
        where = ".".join(str(p) for p in steps) or "the flow file"
        out.append(Problem(path, _line(doc, steps), f"{where}: {_message(error)}"))
    return sorted(out, key=lambda p: (p.line, p.message))


def _message(error: ValidationError) -> str:
    if error.validator == "additionalProperties" and not error.absolute_path:
        known = ", ".join(error.schema.get("properties", {}))
        return f"{error.message}; a flow file has only: {known}"
    if error.validator in ("oneOf", "anyOf"):
        last = error.absolute_path[-1] if error.absolute_path else ""
        if last in ("key", "voice_key"):
            return f"{_short(error.instance)} is not one keypad digit 1-9"
        if last == "keywords":
            return f"{_short(error.instance)} is neither a list of words nor a mapping of language to a list"
        if isinstance(error.instance, dict) and "key" in error.instance:
            return "an option needs `goto:` (the state it leads to) or `do:` (an action)"
        return f"{_short(error.instance)} is neither text nor a mapping of language to text"
    return error.message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _line(doc: Any, path: list[Any]) -> int:
    """The line of the deepest node on `path` that the YAML knows a position for."""
    line, node = 1, doc
    for key in path:
        try:
            if isinstance(node, CommentedMap):
                line = int(node.lc.key(key)[0]) + 1
            elif isinstance(node, CommentedSeq):
                line = int(node.lc.item(key)[0]) + 1
            node = node[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line
