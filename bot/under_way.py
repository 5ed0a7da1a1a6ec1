"""Work under way (updates being handled, runs of scheduled jobs), so a stop can wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class UnderWay:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """``work()``, counted while it runs."""
        self._count += 1
        self._idle.clear()
        try:
            return await work()
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def finished(self, within_seconds: float) -> bool:
        """Wait until nothing is under way; False if something still is after
        ``within_seconds``."""
        try:
            await asyncio.wait_for(self._idle.wait(), within_seconds)
        except TimeoutError:
            return False
        return True
