"""Pending updates and ``getUpdates`` long polling, with Telegram's confirm-by-offset rule."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from enum import Enum
from typing import Any, cast

from aiogram.client.default import Default
from aiogram.types import Update

#: Telegram keeps at most this many unconfirmed updates and answers at most 100 at a time.
MAX_LIMIT = 100


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _plain(item)
            for key, item in value.items()
            if item is not None and not isinstance(item, Default)
        }
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return round(value.timestamp())
    if isinstance(value, Enum):
        return value.value
    return value


def wire_json(update: Update) -> dict[str, Any]:
    """An update as Telegram sends it. aiogram's models fill absent options with ``Default``
    markers (e.g. a message's link preview options), which are no JSON: they are left out,
    as Telegram leaves out what is not set."""
    return cast(dict[str, Any], _plain(update.model_dump(by_alias=True, exclude_none=True)))


class UpdateQueue:
    """Updates users produced, waiting for the bot's ``getUpdates``.

    As in Telegram, asking with ``offset`` confirms (drops) every update with a smaller id;
    without new updates a call with ``timeout`` waits that many seconds before answering [].
    """

    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._closed = False

    def __len__(self) -> int:
        return len(self._pending)

    async def put(self, update: Update | dict[str, Any]) -> None:
        raw = wire_json(update) if isinstance(update, Update) else update
        async with self._changed:
            self._pending.append(raw)
            self._changed.notify_all()

    async def take(
        self,
        *,
        offset: int | None = None,
        limit: int = MAX_LIMIT,
        wait_seconds: float = 0,
        allowed_updates: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        limit = max(1, min(limit or MAX_LIMIT, MAX_LIMIT))
        async with self._changed:
            self._drop(offset, allowed_updates)
            if not self._pending and wait_seconds > 0 and not self._closed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._pending) or self._closed),
                        wait_seconds,
                    )
                self._drop(offset, allowed_updates)
            return list(self._pending[:limit])

    async def first(self) -> dict[str, Any]:
        """The oldest unconfirmed update, waiting for one to come (webhook delivery)."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._pending))
            return self._pending[0]

    async def confirm(self, update_id: int) -> None:
        """A webhook answered 200 for this update: Telegram forgets it."""
        async with self._changed:
            self._pending = [u for u in self._pending if u["update_id"] != update_id]
            self._changed.notify_all()

    async def drained(self) -> None:
        """Wait until every update has been confirmed."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._pending)

    def _drop(self, offset: int | None, allowed_updates: list[str] | None) -> None:
        """Confirmed updates go; so do kinds the bot did not ask for (as in Telegram)."""
        before = len(self._pending)
        if offset is not None:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if allowed_updates:
            wanted = set(allowed_updates)
            self._pending = [u for u in self._pending if wanted & u.keys()]
        if len(self._pending) != before:
            self._changed.notify_all()

    async def close(self) -> None:
        """Answer every held long poll at once (the server is shutting down)."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()
