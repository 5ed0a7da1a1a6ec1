"""Which message copies which: a customer's message and its copy in the topic, an agent's
reply and its copy to the customer. Methods take keyword-only arguments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import col, select

from storage.repositories import _Repository
from storage.staff_models import MessageLink


class MessageLinkRepository(_Repository):
    async def add(
        self,
        *,
        ticket_id: int,
        source_chat_id: int,
        source_message_id: int,
        copy_chat_id: int,
        copy_message_id: int,
        now: datetime,
    ) -> None:
        self.session.add(
            MessageLink(
                ticket_id=ticket_id,
                source_chat_id=source_chat_id,
                source_message_id=source_message_id,
                copy_chat_id=copy_chat_id,
                copy_message_id=copy_message_id,
                created_at=now,
            )
        )
        await self.session.flush()

    async def copies_of(
        self, *, source_chat_id: int, source_message_id: int, copy_chat_id: int
    ) -> Sequence[MessageLink]:
        result = await self.session.exec(
            select(MessageLink)
            .where(
                MessageLink.source_chat_id == source_chat_id,
                MessageLink.source_message_id == source_message_id,
                MessageLink.copy_chat_id == copy_chat_id,
            )
            .order_by(col(MessageLink.id))
        )
        return result.all()

    async def counterpart(self, *, chat_id: int, message_id: int, other_chat_id: int) -> int | None:
        """The id in `other_chat_id` of the message that `message_id` copies or was copied to."""
        as_copy = await self.session.exec(
            select(MessageLink.source_message_id).where(
                MessageLink.copy_chat_id == chat_id,
                MessageLink.copy_message_id == message_id,
                MessageLink.source_chat_id == other_chat_id,
            )
        )
        found = as_copy.first()
        if found is not None:
            return int(found)
        as_source = await self.session.exec(
            select(MessageLink.copy_message_id).where(
                MessageLink.source_chat_id == chat_id,
                MessageLink.source_message_id == message_id,
                MessageLink.copy_chat_id == other_chat_id,
            )
        )
        found = as_source.first()
        return int(found) if found is not None else None

    async def ticket_for(self, *, chat_id: int, message_id: int) -> int | None:
        result = await self.session.exec(
            select(MessageLink.ticket_id)
            .where(
                or_(
                    and_(
                        col(MessageLink.copy_chat_id) == chat_id,
                        col(MessageLink.copy_message_id) == message_id,
                    ),
                    and_(
                        col(MessageLink.source_chat_id) == chat_id,
                        col(MessageLink.source_message_id) == message_id,
                    ),
                )
            )
            .order_by(col(MessageLink.id).desc())
        )
        found = result.first()
        return int(found) if found is not None else None
