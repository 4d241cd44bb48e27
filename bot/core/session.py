"""A conversation's state between messages: where the person is in the flow and what they chose.

For calls it also counts the tries in a row that went unheard or not understood and the failed transfers,
and remembers that a crisis answer just offered a person ("say yes"), so all of it lives in Redis with the
rest of the call (keyed by the hashed CallSid), not in a web process.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
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
    misses: int = 0
    dial_failures: int = 0
    can_text: bool = True
    offered_person: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain data for storage (by field names read once: `dataclasses.asdict` deep-copies every value)."""
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["history"] = list(self.history)
        data["pending"] = list(self.pending)
        data["vars"] = dict(self.vars)
        return data

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
            misses=int(data.get("misses", 0)),
            dial_failures=int(data.get("dial_failures", 0)),
            can_text=bool(data.get("can_text", True)),
            offered_person=bool(data.get("offered_person", False)),
        )

    def goto(self, state: str, *, remember: bool = True) -> Session:
        """Move to `state`, keeping the way back."""
        history = self.history
        if remember and state != self.state:
            history = (*history, self.state)[-MAX_HISTORY:]
        return replace(self, state=state, history=history, pending=(), offset=0)

    def back(self) -> Session:
        """Return to the previous state, if there is one."""
        if not self.history:
            return replace(self, pending=(), offset=0)
        return replace(self, state=self.history[-1], history=self.history[:-1], pending=(), offset=0)

    def with_vars(self, **values: str) -> Session:
        return replace(self, vars={**self.vars, **values})


_FIELD_NAMES = tuple(f.name for f in fields(Session))


@dataclass(frozen=True)
class Opening:
    """What the stores know about a message's sender before the engine runs, read in one go."""

    session: Session | None
    returning: bool
    opted_out: bool | None = None
    """None when the fast copy does not know: ask the opt-out stores."""
    over_limit: bool = False
    remembered: bool = True
    """False when the session store could not be read: the conversation goes on without memory."""
    duplicate: bool = False
    """A copy of a message that is already being answered (delivered twice): it gets the first copy's answer."""
    language: str | None = None
    """The language a returning person last wrote in (kept with the "wrote before" marker), if known."""
    claimed: str | None = None
    """The webhook delivery this copy claimed: its answer is kept under it by `Conversations.commit`."""

    @property
    def conversation_language(self) -> str | None:
        """The language of the live conversation, else the one remembered for this person."""
        return self.session.language if self.session is not None else self.language


NOT_REMEMBERED = Opening(None, False, remembered=False)


class Conversations(Protocol):
    """Where conversations live between messages (Redis in production); keyed by a hash, never a number.

    Answering one message makes two calls: `open` before the engine runs and `commit` after its answer is made.
    """

    def open(self, key: str, person: str | None = None, delivery: str | None = None) -> Opening:
        """Claim `delivery`, load `key`'s session and, for a text (`person` given), count it against the rate
        limit and read the fast copy of its opt-out. Raises when the store does not answer."""
        ...

    def commit(self, key: str, session: Session | None, delivery: str | None, answer: bytes | None) -> None:
        """Save the session and keep the answer for a redelivery of a claimed delivery. Raises on failure."""
        ...

    def first_answer(self, delivery: str) -> bytes | None:
        """The answer the first copy of `delivery` gave, waiting a little for it; None when it is not there."""
        ...

    def release(self, delivery: str) -> None:
        """Drop the claim on a delivery whose answer could not be made; never raises."""
        ...

    def save(self, key: str, session: Session) -> None:
        """Store a session at once (a conversation started over)."""
        ...

    def forget(self, key: str) -> None:
        """Drop the session at once (a call that has ended, a STOP)."""
        ...
