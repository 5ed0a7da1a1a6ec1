"""Knows which updates are being handled, so a shutdown can let them finish first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot.under_way import UnderWay


class InFlightUpdates(BaseMiddleware):
    def __init__(self) -> None:
        self._handling = UnderWay()

    @property
    def count(self) -> int:
        return self._handling.count

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        return await self._handling.run(lambda: handler(event, data))

    async def drain(self, grace_seconds: float) -> bool:
        """Wait until no update is being handled; False if the grace period ran out first."""
        return await self._handling.finished(grace_seconds)
