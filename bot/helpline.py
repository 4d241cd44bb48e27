"""The helpline as one object: the flow engine wired to its session store and directory.

Web handlers and the CLI simulator call `Helpline.converse`; it never raises for a person's message.
When a part fails (Redis, the database), the conversation degrades: it goes on without memory, or with
the hotlines alone, and the failure is logged once per kind of fault rather than once per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.engine import Context, Inbound, Turn, fallback_reply, step
from bot.core.identity import person_key
from bot.core.reply import Hotlines, Reply
from bot.core.session import SessionStore

log = logging.getLogger(__name__)

FAULT_LOG_INTERVAL_SECONDS = 60.0


class FaultLog:
    """Logs each kind of fault at most once a minute, with a count of what it held back."""

    def __init__(self, interval: float = FAULT_LOG_INTERVAL_SECONDS):
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def report(self, kind: str, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.interval:
                self._held[kind] = self._held.get(kind, 0) + 1
                return
            held = self._held.pop(kind, 0)
            self._last[kind] = now
        log.error("%s failed: %s: %s (%d similar since last report)", kind, type(exc).__name__, exc, held)


@dataclass(frozen=True)
class Outcome:
    """What the web layer needs: the reply and whether it came from the degraded path."""

    reply: Reply
    degraded: bool = False


class Helpline:
    """The running helpline: context (flow, places, directory, hotlines) plus session storage."""

    def __init__(
        self,
        context: Context | None,
        sessions: SessionStore,
        hash_secret: str,
        catch_up: Callable[[], None] | None = None,
        hotlines: Hotlines | None = None,
    ):
        # `context` is replaced whole by the reloader (one attribute assignment, atomic for readers);
        # None means no valid flow could be loaded, and every reply is the hotlines alone.
        self.context = context
        self.sessions = sessions
        self.hash_secret = hash_secret
        self.faults = FaultLog()
        self.catch_up = catch_up
        self.hotlines = hotlines or (context.hotlines if context is not None else None)

    def converse(self, channel: str, sender: str, inbound: Inbound) -> Outcome:
        """Answer one message from `sender` (a phone number or call id) on `channel`."""
        key = f"{channel}:{person_key(self.hash_secret, sender)}"
        session, returning, remembered = None, False, True
        try:
            session, returning = self.sessions.load(key)
        except Exception as exc:  # noqa: BLE001 - any storage fault degrades, never fails the reply
            self.faults.report("session load", exc)
            remembered = False
        context = self.context
        if context is not None and session is not None and self.catch_up is not None:
            if session.flow == context.flow.name and session.state not in context.flow.states:
                # Another worker may already serve a newer flow that has this state: catch up first.
                try:
                    self.catch_up()
                except Exception as exc:  # noqa: BLE001
                    self.faults.report("flow reload", exc)
                context = self.context
        if context is None:
            assert self.hotlines is not None
            return Outcome(fallback_reply(self.hotlines), degraded=True)
        try:
            turn: Turn = step(context, session, inbound, returning=returning)
        except Exception as exc:  # noqa: BLE001
            self.faults.report("engine step", exc)
            return Outcome(fallback_reply(context.hotlines), degraded=True)
        if remembered:
            try:
                self.sessions.save(key, turn.session)
            except Exception as exc:  # noqa: BLE001
                self.faults.report("session save", exc)
                remembered = False
        log.info("%s %s -> %s (turn %d)", channel, key[-8:], turn.session.state, turn.session.turns)
        return Outcome(turn.reply, degraded=not remembered)
