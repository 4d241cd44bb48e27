"""The conversation flows, one package with one entry point: `load_flow` reads a flow file into a validated,
frozen `Flow`; `check_flow` finds what still strands a person; `read_flow`/`check_flow_file` do both over one
file's bytes (with its JSON Schema), as the hot reloader and `helpline flows check` both apply them; `fall_back`
picks the last good copy or the built-in stand-in when a file fails.

- `model`: the frozen flow (states, options, texts per language)
- `loader`: YAML -> `Flow`, refusing what cannot run (every problem as `file:line: message`)
- `schema`: the flow file's JSON Schema, with YAML line numbers
- `check`: the deeper checks of a loaded flow, the segment budget among them
- `files`: reading the flows folder's files and checking them; the fallback
- `builtin`: the small flow and crisis phrases served when nothing else can be

The names below are looked up in their module on first use: the engine and the renderer import `model` while
`check` measures texts with them, so importing every submodule here would make them import each other.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.flows.builtin import safe_crisis, safe_flow
    from bot.core.flows.check import Budget, Measured, check_flow, segment_report
    from bot.core.flows.files import (
        CRISIS_FILE,
        MAIN_FLOW,
        FileRead,
        FlowReport,
        check_flow_file,
        fall_back,
        flow_files,
        load_and_check,
        make_budget,
        read_crisis,
        read_flow,
        served_label,
    )
    from bot.core.flows.loader import FlowError, Problem, load_flow, parse_flow
    from bot.core.flows.model import Flow
    from bot.core.flows.schema import schema_problems

__all__ = [
    "CRISIS_FILE",
    "MAIN_FLOW",
    "Budget",
    "FileRead",
    "Flow",
    "FlowError",
    "FlowReport",
    "Measured",
    "Problem",
    "check_flow",
    "check_flow_file",
    "fall_back",
    "flow_files",
    "load_and_check",
    "load_flow",
    "make_budget",
    "parse_flow",
    "read_crisis",
    "read_flow",
    "safe_crisis",
    "safe_flow",
    "schema_problems",
    "segment_report",
    "served_label",
]
_MODULE_OF = {
    "Budget": "check",
    "CRISIS_FILE": "files",
    "FileRead": "files",
    "Flow": "model",
    "FlowError": "loader",
    "FlowReport": "files",
    "MAIN_FLOW": "files",
    "Measured": "check",
    "Problem": "loader",
    "check_flow": "check",
    "check_flow_file": "files",
    "fall_back": "files",
    "flow_files": "files",
    "load_and_check": "files",
    "load_flow": "loader",
    "make_budget": "files",
    "parse_flow": "loader",
    "read_crisis": "files",
    "read_flow": "files",
    "safe_crisis": "builtin",
    "safe_flow": "builtin",
    "schema_problems": "schema",
    "segment_report": "check",
    "served_label": "files",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
