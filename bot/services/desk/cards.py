"""What the staff group shows: ticket cards, a customer's history, the agents."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.desk.common import CardData
from bot.services.desk.core import DeskCore
from bot.services.outbox import enqueue_card_refresh
from storage.models import Ticket
from storage.repositories import KEEP, _Keep
from storage.staff_models import Agent


class DeskQueries(DeskCore):
    async def card_data(self, ticket_id: int) -> CardData:
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load(uow, ticket_id)
            assert ticket.id is not None and customer.id is not None
            earlier = await uow.staff_tickets.count_earlier(
                customer_id=customer.id, before_id=ticket.id
            )
            assignee = (
                await uow.agents.get(telegram_id=ticket.assignee_id) if ticket.assignee_id else None
            )
            return CardData(ticket, customer, earlier, assignee)

    async def request_card_refresh(self, ticket_id: int) -> None:
        """Have the delivery worker re-render the ticket's card (the one path that edits it);
        DeskError for a ticket that does not exist (a forged button press)."""
        async with self._database.unit_of_work() as uow:
            await self._load(uow, ticket_id)
            await enqueue_card_refresh(uow, ticket_id=ticket_id, now=self._clock.now())
        self._notify()

    async def card_shown(self, ticket_id: int) -> tuple[str | None, str | None]:
        """What the group shows of the ticket: the digest of its card and its topic's name."""
        async with self._database.unit_of_work() as uow:
            card = await uow.cards.get(ticket_id=ticket_id)
            return (card.card_digest, card.topic_name) if card else (None, None)

    async def record_card_shown(
        self,
        ticket_id: int,
        *,
        card_digest: str | _Keep | None = KEEP,
        topic_name: str | _Keep | None = KEEP,
    ) -> None:
        async with self._database.unit_of_work() as uow:
            await uow.cards.record(
                ticket_id=ticket_id,
                now=self._clock.now(),
                card_digest=card_digest,
                topic_name=topic_name,
            )

    async def ticket_by_topic(self, topic_id: int) -> Ticket | None:
        async with self._database.unit_of_work() as uow:
            return await uow.staff_tickets.by_topic(topic_id=topic_id)

    async def ticket_by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        async with self._database.unit_of_work() as uow:
            ticket_id = await uow.links.ticket_for(chat_id=chat_id, message_id=message_id)
            return await uow.tickets.get(ticket_id=ticket_id) if ticket_id else None

    async def customer_history(self, ticket_id: int) -> tuple[Ticket, Sequence[Ticket]]:
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load(uow, ticket_id)
            assert customer.id is not None
            return ticket, await uow.tickets.for_customer(customer_id=customer.id, limit=20)

    async def agents(self) -> Sequence[Agent]:
        async with self._database.unit_of_work() as uow:
            return await uow.agents.all()
