"""A desk whose Bot API also serves getUpdates from a queue, with Telegram's confirmation rule."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from sqlalchemy import Table, func, select

from bot.app import build_app
from bot.domain.clock import FrozenClock
from bot.runner import build_inbox
from bot.telegram.inbox import Inbox
from storage.models import TicketMessage
from storage.unit_of_work import Database
from tests.harness import Desk
from tests.staff.conftest import any_desk, desk, open_desk

__all__ = ["any_desk", "desk"]  # the staff tests' desk fixtures, used here too


MESSAGES: Table = TicketMessage.__table__  # type: ignore[attr-defined]


async def stored_texts(database: Database, chat_id: int) -> list[str]:
    """What is stored of the messages written in this chat, in order."""
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(MESSAGES.c.text).where(MESSAGES.c.chat_id == chat_id).order_by(MESSAGES.c.id)
        )
        return [str(text) for text in rows.scalars()]


async def rows_for(database: Database, chat_id: int, message_id: int) -> int:
    """How many stored rows there are for one Telegram message."""
    async with database.engine.connect() as connection:
        result = await connection.execute(
            select(func.count())
            .select_from(MESSAGES)
            .where(MESSAGES.c.chat_id == chat_id, MESSAGES.c.telegram_message_id == message_id)
        )
        return int(result.scalar_one())


def raw(update: Update) -> dict[str, Any]:
    """The JSON Telegram would send for this update."""
    loaded: dict[str, Any] = json.loads(update.model_dump_json(exclude_none=True, by_alias=True))
    return loaded


@dataclass
class Confirmation:
    """A getUpdates call whose offset confirmed updates, and what was stored at that moment."""

    confirmed: list[int]
    in_inbox: set[int]


@dataclass
class UpdateQueue:
    """Telegram's side of long polling: updates stay until a later offset confirms them."""

    database_file: Path
    pending: list[dict[str, Any]] = field(default_factory=list)
    confirmations: list[Confirmation] = field(default_factory=list)
    offsets: list[int | None] = field(default_factory=list)
    drained: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, *updates: dict[str, Any]) -> None:
        self.pending.extend(updates)
        self.drained.clear()

    def _inbox_ids(self) -> set[int]:
        with sqlite3.connect(self.database_file) as connection:
            return {row[0] for row in connection.execute("SELECT update_id FROM inbox")}

    async def answer(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        self.offsets.append(offset)
        if offset is not None:
            confirmed = [u["update_id"] for u in self.pending if u["update_id"] < offset]
            if confirmed:
                self.confirmations.append(Confirmation(confirmed, self._inbox_ids()))
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if self.pending:
            return list(self.pending[:100])
        self.drained.set()
        await self.release.wait()  # a long poll held open until the test ends it
        return []


class QueueSession(BaseSession):
    """The fake Bot API for everything, except getUpdates, which the queue answers."""

    def __init__(self, fake: BaseSession, queue: UpdateQueue) -> None:
        super().__init__()
        self.fake = fake
        self.queue = queue

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        if method.__api_method__ != "getUpdates":
            return await self.fake.make_request(bot, method, timeout)
        params = method.model_dump(exclude_none=True)
        result = await self.queue.answer(params)
        response = self.check_response(
            bot=bot,
            method=method,
            status_code=200,
            content=json.dumps({"ok": True, "result": result}),
        )
        return response.result  # type: ignore[return-value]

    def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        return self.fake.stream_content(url, headers, timeout, chunk_size, raise_for_status)

    async def close(self) -> None:
        await self.fake.close()


@dataclass
class Receipt:
    desk: Desk
    queue: UpdateQueue
    inbox: Inbox

    def rebuild(self) -> Inbox:
        """A new app and inbox over the same database, as after a restart."""
        session = QueueSession(self.desk.fake, self.queue)
        self.desk.app = build_app(
            self.desk.settings, clock=self.desk.clock, session=session, database=self.desk.database
        )
        self.inbox = build_inbox(self.desk.app)
        return self.inbox

    async def poll_until_drained(self) -> None:
        """Poll until every queued update is confirmed and handled, then stop polling."""
        stop = asyncio.Event()
        polling = asyncio.create_task(self.inbox.poll(stop, allowed_updates=None))
        try:
            await asyncio.wait_for(self.queue.drained.wait(), 20)
            assert await self.inbox.settle(20)
        finally:
            stop.set()
            await asyncio.wait_for(polling, 20)


@pytest.fixture
async def receipt(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Receipt]:
    async with open_desk(tmp_path, clock) as desk:
        queue = UpdateQueue(tmp_path / "desk.db")
        running = Receipt(desk, queue, None)  # type: ignore[arg-type]
        running.rebuild()
        try:
            yield running
        finally:
            queue.release.set()
