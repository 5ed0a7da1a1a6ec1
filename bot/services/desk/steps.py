"""The steps staff use cases are made of: load (and lock) a ticket, record the acting agent,
move the status, assign. Each runs in the caller's unit of work."""

from __future__ import annotations

from datetime import datetime

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import Actor, ActorKind, EventKind, TicketStatus
from bot.services.desk.common import AgentRef, DeskError
from bot.services.outbox import enqueue_card_refresh
from bot.services.transitions import apply_transition, refresh_due_times
from storage.models import Customer, Ticket
from storage.staff_models import Agent
from storage.unit_of_work import UnitOfWork


class TicketSteps:
    def __init__(self, clock: Clock, sla: SlaPolicy) -> None:
        self._clock = clock
        self.sla = sla

    async def load(
        self, uow: UnitOfWork, ticket_id: int, *, lock: bool = False
    ) -> tuple[Ticket, Customer]:
        """The ticket and its customer; `lock` holds the ticket's row until the unit of work
        ends (every change to a ticket takes it, so concurrent changes take turns)."""
        found = await uow.tickets.with_customer_and_agent(ticket_id=ticket_id, for_update=lock)
        if found is None:
            raise DeskError("desk.error.no_ticket")
        ticket, customer, _ = found
        return ticket, customer

    async def load_for_agent(
        self, uow: UnitOfWork, ticket_id: int, agent: AgentRef
    ) -> tuple[Ticket, Customer]:
        """Load and lock the ticket a staff action is about, and record the acting agent
        (their record is read with the ticket, so recording an unchanged agent reads
        nothing more)."""
        found = await self.find_for_agent(uow, agent, ticket_id=ticket_id)
        if found is None:
            raise DeskError("desk.error.no_ticket")
        return found

    async def find_for_agent(
        self,
        uow: UnitOfWork,
        agent: AgentRef,
        *,
        ticket_id: int | None = None,
        topic_id: int | None = None,
    ) -> tuple[Ticket, Customer] | None:
        """`load_for_agent` for the ticket with this id or this topic in the staff group;
        None when there is none."""
        found = await uow.tickets.with_customer_and_agent(
            ticket_id=ticket_id, topic_id=topic_id, agent_id=agent.user_id, for_update=True
        )
        if found is None:
            return None
        # The agent's record is held until it is recorded: the session keeps only what is
        # referenced (recording it holds it for the rest of the unit of work).
        ticket, customer, _known = found
        await self.record_agent(uow, agent)
        return ticket, customer

    async def record_agent(self, uow: UnitOfWork, agent: AgentRef) -> Agent:
        return await uow.agents.upsert(
            telegram_id=agent.user_id,
            display_name=agent.name,
            username=agent.username,
            now=self._clock.now(),
        )

    async def move(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        target: TicketStatus,
        actor: Actor,
        now: datetime,
        comment: str | None = None,
        save: bool = True,
    ) -> None:
        """Move the ticket (`apply_transition`; `save=False`: the caller saves it next)."""
        await apply_transition(
            uow,
            ticket=ticket,
            target=target,
            actor=actor,
            now=now,
            sla=self.sla,
            comment=comment,
            save=save,
        )

    async def start_work(
        self, uow: UnitOfWork, ticket: Ticket, agent: AgentRef, now: datetime, *, take: bool
    ) -> None:
        """The agent works on the ticket: it moves to in progress (unless it is there) and is
        assigned to them (`take`: whoever had it; else only when nobody has it), the ticket
        written in one UPDATE."""
        if ticket.status is not TicketStatus.IN_PROGRESS:
            actor = Actor.agent(agent.user_id)
            await self.move(uow, ticket, TicketStatus.IN_PROGRESS, actor, now, save=False)
        if take or ticket.assignee_id is None:
            await self.assign(uow, ticket, agent.user_id, actor=agent, now=now)
        else:
            await uow.tickets.save(ticket=ticket)

    async def assign(
        self, uow: UnitOfWork, ticket: Ticket, assignee_id: int, *, actor: AgentRef, now: datetime
    ) -> None:
        assert ticket.id is not None
        ticket.assignee_id = assignee_id
        if ticket.first_response_at is None and assignee_id == actor.user_id:
            ticket.first_response_at = now
        ticket.updated_at = now
        refresh_due_times(ticket, sla=self.sla, now=now)
        await uow.tickets.save(ticket=ticket)
        await uow.events.add(
            ticket_id=ticket.id,
            at=now,
            kind=EventKind.ASSIGN,
            actor_kind=ActorKind.AGENT,
            actor_id=actor.user_id,
            data={"assignee_id": assignee_id},
        )
        assignee = await uow.agents.get(telegram_id=assignee_id)
        if assignee is not None:
            assignee.last_assigned_at = now
            await uow.agents.save(agent=assignee)
        await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
