"""What staff send a customer about a ticket: kept in its history, the first one timed."""

from __future__ import annotations

import html
import re
from datetime import datetime

from bot.domain.sla import SlaPolicy
from bot.services.transitions import refresh_due_times
from storage.models import Ticket, TicketMessage
from storage.unit_of_work import UnitOfWork

_TAG = re.compile(r"<[^>]*>")


def html_to_plain(telegram_html: str) -> str:
    """The text of a Telegram HTML message without its markup (for the stored history; a
    literal `<` in the text is escaped in HTML, so every `<...>` here is a tag)."""
    return html.unescape(_TAG.sub("", telegram_html))


async def record_staff_answer(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    agent_id: int,
    now: datetime,
    sla: SlaPolicy,
    content_type: str,
    text: str | None,
    chat_id: int | None = None,
    telegram_message_id: int | None = None,
    media_group_id: str | None = None,
) -> bool:
    """Store an answer (a reply, a canned text, an article) as an outgoing message of the
    ticket; the first one is the ticket's first response and stops that clock. False (and
    nothing written) when the staff group's message with `chat_id` and `telegram_message_id`
    is stored already: its update came again."""
    message = TicketMessage(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        direction="out",
        author_id=agent_id,
        content_type=content_type,
        text=text,
        chat_id=chat_id,
        telegram_message_id=telegram_message_id,
        media_group_id=media_group_id,
        created_at=now,
    )
    if ticket.first_response_at is not None:
        # The message and the ticket's `updated_at` (one statement on PostgreSQL).
        stored, _ = await uow.messages.add_to_ticket(
            message=message, ticket=ticket, read_previous=False
        )
        return stored is not None
    if await uow.messages.add_unless_stored(message=message) is None:
        return False
    ticket.first_response_at = now
    refresh_due_times(ticket, sla=sla, now=now)
    ticket.updated_at = now
    await uow.tickets.save(ticket=ticket)
    return True
