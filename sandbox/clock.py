"""The sandbox's clock: real time plus an offset the page can move forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Runs like a wall clock; :meth:`advance` jumps it ahead (it never goes back), so
    service-level warnings, surveys and auto-close come due without waiting."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta <= timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        self._offset += delta
        return self.now()
