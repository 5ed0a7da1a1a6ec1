"""Opening a ticket's topic through the outbox, so a failure is retried by the worker.

An ``open_topic`` row (chat ``STAFF_GROUP``, ``ticket_id`` set, payload
``{"ticket_topic": true}``) is written in the unit of work that registers the ticket; the
delivery worker makes the ticket's topic and card when it delivers it (as for any row meant
for the ticket's topic) and retries it like a message when Telegram fails. Nothing of it runs
in the customer's submit path.
"""

from __future__ import annotations

from datetime import datetime

from bot.services.outbox import STAFF_GROUP
from storage.unit_of_work import UnitOfWork

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
