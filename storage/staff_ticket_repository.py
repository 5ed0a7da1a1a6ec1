"""Ticket queries of the staff side (topics, cards, relays). Methods take keyword-only
arguments."""

from __future__ import annotations

from sqlalchemy import bindparam, func, update
from sqlmodel import col, select

from storage.models import Ticket, TicketMessage
from storage.repositories import _Repository

# Built once: every relayed customer message looks at the one before it.
_PREVIOUS_MESSAGE = (
    select(TicketMessage)
    .where(
        TicketMessage.ticket_id == bindparam("ticket_id"),
        col(TicketMessage.id) < bindparam("before_id"),
    )
    .order_by(col(TicketMessage.id).desc())
    .limit(1)
)
# Built once, as they are used once for every relayed message (building a statement costs
# more than running it): a stored message by its Telegram id, a ticket by its topic.
_MESSAGE_BY_TELEGRAM_ID = (
    select(TicketMessage)
    .where(
        TicketMessage.chat_id == bindparam("chat_id"),
        TicketMessage.telegram_message_id == bindparam("telegram_message_id"),
    )
    .order_by(col(TicketMessage.id).desc())
)
_BY_TOPIC = select(Ticket).where(Ticket.topic_id == bindparam("topic_id"))


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

    async def previous_message(self, *, ticket_id: int, before_id: int) -> TicketMessage | None:
        result = await self.session.exec(
            _PREVIOUS_MESSAGE, params={"ticket_id": ticket_id, "before_id": before_id}
        )
        return result.first()

    async def count_earlier(self, *, customer_id: int, before_id: int) -> int:
        result = await self.session.exec(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.customer_id == customer_id, col(Ticket.id) < before_id)
        )
        return int(result.one())

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
