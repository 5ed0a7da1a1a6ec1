"""Opening a ticket's topic through the outbox, so a failure is retried by the worker.

An ``open_topic`` row (chat ``STAFF_GROUP``, ``ticket_id`` set, payload
``{"ticket_topic": true}``) is written in the unit of work that registers the ticket; the
delivery worker makes the ticket's topic and card when it delivers it (as for any row meant
for the ticket's topic) and retries it like a message when Telegram fails. Nothing of it runs
in the customer's submit path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.clock import Clock
from bot.services.outbox import GROUPABLE_MEDIA, STAFF_GROUP, enqueue_media_group, media_item
from storage.unit_of_work import Database, UnitOfWork

OPEN_TOPIC = "open_topic"


async def enqueue_open_topic(uow: UnitOfWork, *, ticket_id: int, now: datetime) -> bool:
    return await uow.outbox.enqueue(
        key=f"open-topic:{ticket_id}",
        chat_id=STAFF_GROUP,
        kind=OPEN_TOPIC,
        payload={"ticket_topic": True},
        now=now,
        ticket_id=ticket_id,
    )


@dataclass(frozen=True, slots=True)
class TopicRecords:
    """What the card maker stores when it made a ticket's topic or card in the staff group."""

    database: Database
    clock: Clock

    async def claim_topic(self, *, ticket_id: int, topic_id: int, previous: int | None) -> bool:
        """Record `topic_id` as the ticket's topic unless another instance recorded one since
        `previous` was read; False: the caller's topic lost the race."""
        async with self.database.unit_of_work() as uow:
            return await uow.staff_tickets.claim_topic(
                ticket_id=ticket_id, topic_id=topic_id, previous=previous
            )

    async def claim_card(
        self, *, ticket_id: int, chat_id: int, message_id: int, previous: int | None
    ) -> None:
        """Record the card's message (and link it to the ticket, so replies to it find it)."""
        async with self.database.unit_of_work() as uow:
            await uow.staff_tickets.claim_card(
                ticket_id=ticket_id, message_id=message_id, previous=previous
            )
            await uow.links.add(
                ticket_id=ticket_id,
                source_chat_id=chat_id,
                source_message_id=message_id,
                copy_chat_id=chat_id,
                copy_message_id=message_id,
                now=self.clock.now(),
            )

    async def queue_form_files(self, *, ticket_id: int, chat_id: int) -> None:
        """Queue the files sent with the form into the new topic, as albums by kind."""
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            files = [
                a
                for a in await uow.attachments.for_ticket(ticket_id=ticket_id)
                if a.message_id is None
            ]
            groups: dict[str, list[dict[str, Any]]] = {}
            for attachment in files:
                kind = attachment.kind if attachment.kind in GROUPABLE_MEDIA else "document"
                family = "visual" if kind in ("photo", "video") else kind
                groups.setdefault(family, []).append(
                    media_item(kind, attachment.file_id, source_message_id=None)
                )
            for family, items in groups.items():
                await enqueue_media_group(
                    uow,
                    key=f"card-files:{ticket_id}:{family}",
                    chat_id=chat_id,
                    items=items,
                    now=now,
                    ticket_id=ticket_id,
                    ticket_topic=True,
                )
