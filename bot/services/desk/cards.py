"""What the staff group shows: ticket cards, a customer's history, the agents; and the
request to re-render a card."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.services.desk.common import DeskError
from bot.services.desk.steps import TicketSteps
from bot.services.desk.views import AgentView, CardData, CustomerView, TicketView
from bot.services.outbox import Notify, enqueue_card_refresh
from storage.desk_repository import record_card_shown
from storage.repositories import KEEP, _Keep
from storage.unit_of_work import Database


@dataclass(frozen=True, slots=True)
class CardQueries:
    database: Database
    clock: Clock
    steps: TicketSteps

    async def card_data(self, ticket_id: int) -> CardData:
        data, _ = await self.card_and_shown(ticket_id)
        return data

    async def card_and_shown(
        self, ticket_id: int
    ) -> tuple[CardData, tuple[str | None, str | None]]:
        """The card's data and what the group shows of the ticket (the digest of its card and
        its topic's name), read in one statement; DeskError for a ticket that does not
        exist."""
        async with self.database.reading() as uow:
            row = await uow.staff_tickets.card(ticket_id=ticket_id)
        if row is None:
            raise DeskError("desk.error.no_ticket")
        data = CardData(
            TicketView.of(row.ticket),
            CustomerView.of(row.customer),
            row.earlier_tickets,
            AgentView.of(row.assignee) if row.assignee else None,
        )
        return data, (row.shown_card_digest, row.shown_topic_name)

    async def record_card_shown(
        self,
        ticket_id: int,
        *,
        card_digest: str | _Keep | None = KEEP,
        topic_name: str | _Keep | None = KEEP,
    ) -> None:
        await record_card_shown(
            self.database,
            ticket_id=ticket_id,
            now=self.clock.now(),
            card_digest=card_digest,
            topic_name=topic_name,
        )

    async def exists(self, ticket_id: int) -> bool:
        async with self.database.reading() as uow:
            return await uow.tickets.get(ticket_id=ticket_id) is not None

    async def ticket_by_topic(self, topic_id: int) -> TicketView | None:
        async with self.database.reading() as uow:
            ticket = await uow.staff_tickets.by_topic(topic_id=topic_id)
            return TicketView.of(ticket) if ticket else None

    async def ticket_by_message(self, chat_id: int, message_id: int) -> TicketView | None:
        async with self.database.reading() as uow:
            ticket_id = await uow.links.ticket_for(chat_id=chat_id, message_id=message_id)
            ticket = await uow.tickets.get(ticket_id=ticket_id) if ticket_id else None
            return TicketView.of(ticket) if ticket else None

    async def customer_history(self, ticket_id: int) -> tuple[TicketView, list[TicketView]]:
        async with self.database.reading() as uow:
            ticket, customer = await self.steps.load(uow, ticket_id)
            assert customer.id is not None
            tickets = await uow.tickets.for_customer(customer_id=customer.id, limit=20)
            return TicketView.of(ticket), [TicketView.of(t) for t in tickets]

    async def agents(self) -> list[AgentView]:
        async with self.database.reading() as uow:
            return [AgentView.of(agent) for agent in await uow.agents.all()]


@dataclass(frozen=True, slots=True)
class RequestCardRefresh:
    database: Database
    clock: Clock
    steps: TicketSteps
    notify: Notify

    async def __call__(self, ticket_id: int) -> None:
        """Have the delivery worker re-render the ticket's card (the one path that edits it);
        DeskError for a ticket that does not exist (a forged button press)."""
        async with self.database.unit_of_work() as uow:
            await self.steps.load(uow, ticket_id)
            await enqueue_card_refresh(uow, ticket_id=ticket_id, now=self.clock.now())
        self.notify()
