"""Status, priority and resolution changes, and the notices they send to customer and topic."""

from __future__ import annotations

from datetime import datetime

from bot.domain.tickets import (
    Actor,
    ActorKind,
    EventKind,
    Priority,
    ResolutionType,
    TicketStatus,
)
from bot.services.desk.assignment import Assignment
from bot.services.desk.common import AgentRef, DeskError, mention
from bot.services.transitions import change_priority
from storage.models import Customer, Ticket
from storage.unit_of_work import UnitOfWork

CUSTOMER_STATUS_NOTICES = frozenset(
    {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER, TicketStatus.CLOSED}
)


# Someone is on it: Take does not silently take a ticket over from them (/assign does).
WORKED_ON = frozenset({TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER})


class StatusChanges(Assignment):
    async def take(self, ticket_id: int, agent: AgentRef, *, cause: str) -> Ticket:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load_for_agent(uow, ticket_id, agent)
            status = ticket.status
            if ticket.assignee_id == agent.user_id and status is TicketStatus.IN_PROGRESS:
                raise DeskError("desk.error.already_yours", number=ticket.number)
            if status in WORKED_ON and ticket.assignee_id not in (None, agent.user_id):
                # Somebody took it first (two presses of Take race here): say who.
                holder = await uow.agents.get(telegram_id=ticket.assignee_id)
                raise DeskError(
                    "desk.error.taken_by",
                    number=ticket.number,
                    agent=holder.display_name if holder else str(ticket.assignee_id),
                )
            if status is not TicketStatus.IN_PROGRESS:
                await self._move(
                    uow, ticket, TicketStatus.IN_PROGRESS, Actor.agent(agent.user_id), now
                )
            await self._assign(uow, ticket, agent.user_id, actor=agent, now=now)
            await self._to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self._customer_text(
                    customer,
                    "desk.customer.taken",
                    number=ticket.number,
                    agent=self._signature(customer, agent),
                ),
                now=now,
            )
            await self._agent_event(
                uow, ticket, agent, "desk.event.taken", cause=cause, now=now, silent=True
            )
        self._notify()
        return ticket

    async def set_status(
        self, ticket_id: int, agent: AgentRef, target: TicketStatus, *, cause: str
    ) -> Ticket:
        if target is TicketStatus.RESOLVED:
            raise DeskError("desk.error.resolve_needs_text")
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load_for_agent(uow, ticket_id, agent)
            previous = ticket.status
            await self._move(uow, ticket, target, Actor.agent(agent.user_id), now)
            if target is TicketStatus.IN_PROGRESS and ticket.assignee_id is None:
                await self._assign(uow, ticket, agent.user_id, actor=agent, now=now)
            await self._status_messages(uow, ticket, customer, agent, previous, now, cause)
        self._notify()
        return ticket

    async def _status_messages(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        agent: AgentRef | None,
        previous: TicketStatus,
        now: datetime,
        cause: str,
    ) -> None:
        status = ticket.status
        if status in CUSTOMER_STATUS_NOTICES or status is TicketStatus.REOPENED:
            await self._to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self._customer_text(
                    customer, f"desk.customer.status.{status.value}", number=ticket.number
                ),
                now=now,
            )
        who = mention(agent.user_id, agent.name) if agent else self.staff_text("desk.who.customer")
        await self._to_topic(
            uow,
            ticket,
            key=f"{cause}:topic",
            html_text=self.staff_text(
                "desk.event.status",
                who=who,
                old=self._staff_plain(f"desk.status.{previous.value}"),
                new=self._staff_plain(f"desk.status.{status.value}"),
            ),
            now=now,
            silent=True,
        )

    async def resolve(
        self,
        ticket_id: int,
        agent: AgentRef,
        *,
        resolution: ResolutionType,
        text: str,
        cause: str,
        customer_kind: str = "text",
    ) -> Ticket:
        """Record the decision, tell the customer (an outbox row of `customer_kind`) and the
        topic; the survey follows from the resolved status as always."""
        if not text.strip():
            raise DeskError("desk.error.resolve_needs_text")
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load_for_agent(uow, ticket_id, agent)
            await self._move(
                uow, ticket, TicketStatus.RESOLVED, Actor.agent(agent.user_id), now, comment=text
            )
            assert ticket.id is not None
            ticket.resolution_type = resolution
            ticket.resolution_text = text
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            await uow.tickets.save(ticket=ticket)
            await self._to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self._customer_text(
                    customer,
                    "desk.customer.resolved",
                    number=ticket.number,
                    decision=self._catalogs.plain(
                        f"desk.resolution.{resolution.value}", customer.locale
                    ),
                    text=text,
                ),
                now=now,
                buttons=self._buttons.resolution_feedback(ticket.id, customer.locale),
                kind=customer_kind,
            )
            await self._agent_event(
                uow,
                ticket,
                agent,
                "desk.event.resolved",
                cause=cause,
                now=now,
                decision=self._staff_plain(f"desk.resolution.{resolution.value}"),
                text=text,
            )
        self._notify()
        return ticket

    async def set_priority(
        self, ticket_id: int, agent: AgentRef, priority: Priority, *, cause: str
    ) -> Ticket:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket, _customer = await self._load_for_agent(uow, ticket_id, agent)
            await change_priority(
                uow,
                ticket=ticket,
                priority=priority,
                actor=Actor.agent(agent.user_id),
                now=now,
                sla=self._sla,
            )
            await self._agent_event(
                uow,
                ticket,
                agent,
                "desk.event.priority",
                cause=cause,
                now=now,
                silent=True,
                priority=self._staff_plain(f"desk.priority.{priority.value}"),
            )
        self._notify()
        return ticket

    async def customer_confirms(
        self, *, customer_id: int, ticket_id: int, solved: bool, cause: str
    ) -> Ticket:
        """The customer answered "Did this solve it?"; No reopens the ticket."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load(uow, ticket_id, lock=True)
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
                await self._to_topic(
                    uow,
                    ticket,
                    key=f"{cause}:topic",
                    html_text=self.staff_text("desk.event.confirmed"),
                    now=now,
                    silent=True,
                )
            elif status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                await self._move(
                    uow,
                    ticket,
                    TicketStatus.REOPENED,
                    Actor.customer(customer_id),
                    now,
                    comment="not solved",
                )
                await self._status_messages(uow, ticket, customer, None, status, now, cause)
        self._notify()
        return ticket
