"""Status and priority changes by agents, and the customer's "Did this solve it?" answer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.tickets import Actor, ActorKind, EventKind, Priority, TicketStatus
from bot.services.desk.common import AgentRef, DeskError
from bot.services.desk.notices import Notices
from bot.services.desk.steps import TicketSteps
from bot.services.desk.views import TicketView
from bot.services.outbox import Notify
from bot.services.transitions import change_priority
from storage.unit_of_work import Database


@dataclass(frozen=True, slots=True)
class SetStatus:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(
        self, ticket_id: int, agent: AgentRef, target: TicketStatus, *, cause: str
    ) -> TicketView:
        if target is TicketStatus.RESOLVED:
            raise DeskError("desk.error.resolve_needs_text")
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            ticket, customer = await self.steps.load_for_agent(uow, ticket_id, agent)
            previous = ticket.status
            await self.steps.move(uow, ticket, target, Actor.agent(agent.user_id), now)
            if target is TicketStatus.IN_PROGRESS and ticket.assignee_id is None:
                await self.steps.assign(uow, ticket, agent.user_id, actor=agent, now=now)
            await self.notices.status_changed(uow, ticket, customer, agent, previous, now, cause)
            view = TicketView.of(ticket)
        self.notify()
        return view


@dataclass(frozen=True, slots=True)
class SetPriority:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(
        self, ticket_id: int, agent: AgentRef, priority: Priority, *, cause: str
    ) -> TicketView:
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            ticket, _customer = await self.steps.load_for_agent(uow, ticket_id, agent)
            await change_priority(
                uow,
                ticket=ticket,
                priority=priority,
                actor=Actor.agent(agent.user_id),
                now=now,
                sla=self.steps.sla,
            )
            await self.notices.agent_event(
                uow,
                ticket,
                agent,
                "desk.event.priority",
                cause=cause,
                now=now,
                silent=True,
                priority=self.notices.staff_plain(f"desk.priority.{priority.value}"),
            )
            view = TicketView.of(ticket)
        self.notify()
        return view


@dataclass(frozen=True, slots=True)
class CustomerConfirms:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(
        self, *, customer_id: int, ticket_id: int, solved: bool, cause: str
    ) -> TicketView:
        """The customer answered "Did this solve it?"; No reopens the ticket."""
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            ticket, customer = await self.steps.load(uow, ticket_id, lock=True)
            if ticket.customer_id != customer_id:
                raise DeskError("desk.error.no_ticket")
            assert ticket.id is not None
            status = ticket.status
            await uow.events.add(
                ticket_id=ticket.id,
                at=now,
                kind=EventKind.CONFIRMATION,
                actor_kind=ActorKind.CUSTOMER,
                actor_id=customer_id,
                data={"solved": solved},
            )
            if solved:
                await self.notices.to_topic(
                    uow,
                    ticket,
                    key=f"{cause}:topic",
                    html_text=self.notices.staff_text("desk.event.confirmed"),
                    now=now,
                    silent=True,
                )
            elif status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                await self.steps.move(
                    uow,
                    ticket,
                    TicketStatus.REOPENED,
                    Actor.customer(customer_id),
                    now,
                    comment="not solved",
                )
                await self.notices.status_changed(uow, ticket, customer, None, status, now, cause)
            view = TicketView.of(ticket)
        self.notify()
        return view
