"""What becomes of the staff group's topics of tickets whose personal data is erased."""

from __future__ import annotations

from datetime import datetime

from bot.services.outbox import enqueue_card_refresh
from bot.services.privacy_config import PrivacyConfig
from storage.models import Ticket
from storage.unit_of_work import UnitOfWork

DELETE_TOPIC = "delete_topic"
"""Outbox kind: ``{"thread_id": int}`` into the staff group — delete that forum topic."""


async def handle_topics(
    uow: UnitOfWork, tickets: list[Ticket], now: datetime, config: PrivacyConfig
) -> int:
    """Delete the tickets' topics or have their cards and names re-rendered (anonymised);
    returns how many topics were handled."""
    handled = 0
    staff = config.staff_chat_id
    for ticket in tickets:
        assert ticket.id is not None
        if staff is not None and config.erase_topics == "delete" and ticket.topic_id:
            await uow.outbox.enqueue(
                key=f"erase-topic:{ticket.id}:{ticket.topic_id}",
                chat_id=staff,
                kind=DELETE_TOPIC,
                payload={"thread_id": ticket.topic_id},
                now=now,
            )
            await uow.privacy.forget_topic(ticket_id=ticket.id)
            ticket.topic_id = None
            handled += 1
        elif ticket.topic_id is not None or ticket.card_message_id is not None:
            await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
            handled += 1
    return handled
