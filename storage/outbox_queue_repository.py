"""Outbox rows after they were queued: a pending album part, a retry, a failure. The worker's
claim-and-send statements are in `storage/delivery_store.py`. Methods take keyword-only
arguments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from storage.outbox_models import FAILED, PENDING, OutboxMessage
from storage.repositories import _Repository


class OutboxQueueRepository(_Repository):
    async def reschedule(
        self, *, message_id: int, at: datetime, error: str, count_attempt: bool = True
    ) -> None:
        values: dict[str, Any] = {"status": PENDING, "next_attempt_at": at, "last_error": error}
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        await self.session.exec(
            update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
        )

    async def mark_failed(self, *, message_id: int, error: str) -> None:
        await self.session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(status=FAILED, last_error=error)
        )

    async def pending_by_key(self, *, key: str) -> OutboxMessage | None:
        result = await self.session.exec(
            select(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.status == PENDING)
        )
        return result.first()

    async def by_key(self, *, key: str) -> OutboxMessage | None:
        result = await self.session.exec(select(OutboxMessage).where(OutboxMessage.key == key))
        return result.first()

    async def replace_payload(self, *, message: OutboxMessage, payload: dict[str, Any]) -> None:
        message.payload = payload
        self.session.add(message)
        await self.session.flush()
