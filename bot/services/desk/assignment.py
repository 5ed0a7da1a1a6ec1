"""Who works on a ticket: taking it, assigning it, availability, routing at registration."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.tickets import ActorKind, EventKind, TicketStatus
from bot.services.desk.common import AgentRef, DeskError, mention
from bot.services.desk.notices import Notices
from bot.services.desk.steps import TicketSteps
from bot.services.desk.views import AgentView, TicketView
from bot.services.outbox import Notify
from bot.services.routing import Routing
from bot.services.transitions import refresh_due_times
from storage.models import Customer, Ticket
from storage.unit_of_work import Database, UnitOfWork

# Someone is on it: Take does not silently take a ticket over from them (/assign does).
WORKED_ON = frozenset({TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER})


@dataclass(frozen=True, slots=True)
class Take:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(self, ticket_id: int, agent: AgentRef, *, cause: str) -> TicketView:
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            ticket, customer = await self.steps.load_for_agent(uow, ticket_id, agent)
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
            await self.steps.start_work(uow, ticket, agent, now, take=True)
            await self.notices.to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self.notices.customer_text(
                    customer,
                    "desk.customer.taken",
                    number=ticket.number,
                    agent=self.notices.signature(customer, agent),
                ),
                now=now,
            )
            await self.notices.agent_event(
                uow, ticket, agent, "desk.event.taken", cause=cause, now=now, silent=True
            )
            view = TicketView.of(ticket)
        self.notify()
        return view


@dataclass(frozen=True, slots=True)
class Assign:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(
        self, ticket_id: int, agent: AgentRef, *, assignee: str | int, cause: str
    ) -> AgentView:
        """`assignee`: a Telegram user id or a @username of an agent the desk has seen."""
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            ticket, _customer = await self.steps.load_for_agent(uow, ticket_id, agent)
            if isinstance(assignee, int):
                target = await uow.agents.get(telegram_id=assignee)
            else:
                target = await uow.agents.by_username(username=assignee)
            if target is None:
                raise DeskError("desk.error.unknown_agent", who=str(assignee))
            await self.steps.assign(uow, ticket, target.telegram_id, actor=agent, now=now)
            await self.notices.agent_event(
                uow,
                ticket,
                agent,
                "desk.event.assigned",
                cause=cause,
                now=now,
                assignee=mention(target.telegram_id, target.display_name),
            )
            view = AgentView.of(target)
        self.notify()
        return view


@dataclass(frozen=True, slots=True)
class SetAvailable:
    """/away and /back: whether routing may assign new tickets to the agent."""

    database: Database
    clock: Clock
    steps: TicketSteps

    async def __call__(self, agent: AgentRef, *, available: bool) -> None:
        async with self.database.unit_of_work() as uow:
            record = await self.steps.record_agent(uow, agent)
            record.available = available
            record.updated_at = self.clock.now()
            await uow.agents.save(agent=record)


@dataclass(frozen=True, slots=True)
class RouteTicket:
    clock: Clock
    steps: TicketSteps
    routing: Routing

    async def __call__(self, uow: UnitOfWork, ticket: Ticket, customer: Customer) -> None:
        """Team and priority from the rules; round-robin to an available team member. In the
        unit of work that registers the ticket, so a registered ticket is always routed."""
        now = self.clock.now()
        decision = self.routing.route(
            category=ticket.category,
            kind=ticket.kind,
            text=ticket.description,
            language=customer.locale,
        )
        team = decision.team
        if team is None:
            return
        ticket.team = team.name
        if decision.priority and decision.priority != ticket.priority:
            ticket.priority = decision.priority
            refresh_due_times(ticket, sla=self.steps.sla, now=now)
        await uow.tickets.save(ticket=ticket)
        if not team.auto_assign or ticket.assignee_id is not None:
            return
        members = await uow.agents.by_ids(ids=team.agents)
        available = [m for m in members if m.available]
        if not available:
            return
        chosen = min(
            available,
            key=lambda m: (
                m.last_assigned_at is not None,
                m.last_assigned_at or now,
                team.agents.index(m.telegram_id),
            ),
        )
        ticket.assignee_id = chosen.telegram_id
        chosen.last_assigned_at = now
        await uow.agents.save(agent=chosen)
        await uow.tickets.save(ticket=ticket)
        assert ticket.id is not None
        await uow.events.add(
            ticket_id=ticket.id,
            at=now,
            kind=EventKind.ASSIGN,
            actor_kind=ActorKind.SYSTEM,
            actor_id=None,
            data={"assignee_id": chosen.telegram_id, "team": team.name},
        )
