"""A conversation's state between messages: where the person is in the flow and what they chose."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

MAX_HISTORY = 10


@dataclass(frozen=True)
class Session:
    """Everything the engine remembers about one conversation; serialisable as plain JSON."""

    flow: str
    state: str
    language: str = "en"
    history: tuple[str, ...] = ()
    vars: dict[str, str] = field(default_factory=dict)
    pending: tuple[str, ...] = ()
    offset: int = 0
    turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for storage (spelled out: `dataclasses.asdict` deep-copies and is ten times slower)."""
        return {
            "flow": self.flow,
            "state": self.state,
            "language": self.language,
            "history": list(self.history),
            "vars": dict(self.vars),
            "pending": list(self.pending),
            "offset": self.offset,
            "turns": self.turns,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """Rebuild from `to_dict` output; unknown keys are ignored so old sessions still load."""
        return cls(
            flow=str(data["flow"]),
            state=str(data["state"]),
            language=str(data.get("language", "en")),
            history=tuple(str(s) for s in data.get("history", ())),
            vars={str(k): str(v) for k, v in dict(data.get("vars", {})).items()},
            pending=tuple(str(s) for s in data.get("pending", ())),
            offset=int(data.get("offset", 0)),
            turns=int(data.get("turns", 0)),
        )

    def goto(self, state: str, *, remember: bool = True) -> Session:
        """Move to `state`, keeping the way back."""
        history = self.history
        if remember and state != self.state:
            history = (history + (self.state,))[-MAX_HISTORY:]
        return replace(self, state=state, history=history, pending=(), offset=0)

    def back(self) -> Session:
        """Return to the previous state, if there is one."""
        if not self.history:
            return replace(self, pending=(), offset=0)
        return replace(self, state=self.history[-1], history=self.history[:-1], pending=(), offset=0)

    def with_vars(self, **values: str) -> Session:
        return replace(self, vars={**self.vars, **values})


class SessionStore(Protocol):
    """Where sessions live between messages (Redis in production); keyed by a hash, never a number."""

    def load(self, key: str) -> tuple[Session | None, bool]:
        """The live session, if any, and whether this person has written before (for "welcome back")."""
        ...

    def save(self, key: str, session: Session) -> None:
        """Keep the session until its time-to-live runs out."""
        ...
