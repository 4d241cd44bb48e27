"""Faults logged without flooding the log: each kind at most once a minute, with a count of what it held back.

Every part that degrades rather than fails (the helpline, the opt-out store, the live directory, the reloader)
reports its faults here, so an outage reads as a few lines a minute, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time

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
