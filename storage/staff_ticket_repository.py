"""Ticket queries of the staff side (topics, cards, relays). Methods take keyword-only
arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from storage.desk_models import TicketCard
from storage.models import Customer, Ticket, TicketMessage
from storage.repositories import _Repository
from storage.staff_models import Agent

# Built once (building a statement costs more than running it): a stored message by its
# Telegram id (every agent's reply is checked against it), a ticket by its topic (every
# message in a topic).
_MESSAGE_BY_TELEGRAM_ID = (
    select(TicketMessage)
    .where(
        TicketMessage.chat_id == bindparam("chat_id"),
        TicketMessage.telegram_message_id == bindparam("telegram_message_id"),
    )
    .order_by(col(TicketMessage.id).desc())
)
_BY_TOPIC = select(Ticket).where(Ticket.topic_id == bindparam("topic_id"))

_EARLIER = aliased(Ticket)
_EARLIER_TICKETS = (
    select(func.count())
    .select_from(_EARLIER)
    .where(_EARLIER.customer_id == Ticket.customer_id, col(_EARLIER.id) < Ticket.id)
    .scalar_subquery()
)
# Everything a ticket's card shows, and what the group shows of it now, in one statement
# (every change to a ticket refreshes its card): the ticket, its customer, its assignee, the
# card and topic name shown, how many tickets the customer had before it. (`Any`: sqlmodel's
# `exec` is typed for selects of at most four entities.)
_CARD: Any = (
    select(Ticket, Customer, Agent, TicketCard)
    .join(Customer, col(Customer.id) == Ticket.customer_id)
    .outerjoin(Agent, col(Agent.telegram_id) == Ticket.assignee_id)
    .outerjoin(TicketCard, col(TicketCard.ticket_id) == Ticket.id)
    .where(col(Ticket.id) == bindparam("ticket_id"))
    .add_columns(_EARLIER_TICKETS)
)


@dataclass(frozen=True, slots=True)
class CardRow:
    ticket: Ticket
    customer: Customer
    earlier_tickets: int
    assignee: Agent | None
    shown_card_digest: str | None
    shown_topic_name: str | None


class StaffTicketRepository(_Repository):
    """Ticket queries of the staff side (topics, cards, relays)."""

    async def by_topic(self, *, topic_id: int) -> Ticket | None:
        result = await self.session.exec(_BY_TOPIC, params={"topic_id": topic_id})
        return result.first()

    async def claim_topic(self, *, ticket_id: int, topic_id: int, previous: int | None) -> bool:
        """Set the topic only if it is still `previous` (None: unset); False when someone won."""
        condition = (
            col(Ticket.topic_id).is_(None) if previous is None else col(Ticket.topic_id) == previous
        )
        result = await self.session.exec(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id, condition)
            .values(topic_id=topic_id, card_message_id=None)
        )
        return bool(result.rowcount)

    async def claim_card(self, *, ticket_id: int, message_id: int, previous: int | None) -> bool:
        condition = (
            col(Ticket.card_message_id).is_(None)
            if previous is None
            else col(Ticket.card_message_id) == previous
        )
        result = await self.session.exec(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id, condition)
            .values(card_message_id=message_id)
        )
        return bool(result.rowcount)

    async def card(self, *, ticket_id: int) -> CardRow | None:
        """What the ticket's card shows and what the group shows of it (see `_CARD`)."""
        result = await self.session.exec(_CARD, params={"ticket_id": ticket_id})
        row = result.first()
        if row is None:
            return None
        ticket, customer, assignee, shown, earlier = row
        if shown is None:
            return CardRow(ticket, customer, int(earlier), assignee, None, None)
        return CardRow(
            ticket, customer, int(earlier), assignee, shown.card_digest, shown.topic_name
        )

    async def message(self, *, message_id: int) -> TicketMessage | None:
        return await self.session.get(TicketMessage, message_id)

    async def message_by_telegram_id(
        self, *, chat_id: int, telegram_message_id: int
    ) -> TicketMessage | None:
        result = await self.session.exec(
            _MESSAGE_BY_TELEGRAM_ID,
            params={"chat_id": chat_id, "telegram_message_id": telegram_message_id},
        )
        return result.first()
