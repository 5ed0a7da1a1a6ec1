"""Who works on a ticket: taking over, assigning, routing rules and availability."""

from __future__ import annotations

from datetime import datetime

from bot.domain.tickets import ActorKind, EventKind
from bot.services.desk.common import AgentRef, DeskError, mention
from bot.services.desk.core import DeskCore
from bot.services.outbox import enqueue_card_refresh
from bot.services.transitions import refresh_due_times
from storage.models import Customer, Ticket
from storage.staff_models import Agent
from storage.unit_of_work import UnitOfWork


class Assignment(DeskCore):
    async def _assign(
        self, uow: UnitOfWork, ticket: Ticket, assignee_id: int, *, actor: AgentRef, now: datetime
    ) -> None:
        assert ticket.id is not None
        ticket.assignee_id = assignee_id
        if ticket.first_response_at is None and assignee_id == actor.user_id:
            ticket.first_response_at = now
        ticket.updated_at = now
        refresh_due_times(ticket, sla=self._sla, now=now)
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

    async def assign(
        self, ticket_id: int, agent: AgentRef, *, assignee: str | int, cause: str
    ) -> Agent:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket, _customer = await self._load_for_agent(uow, ticket_id, agent)
            if isinstance(assignee, int):
                target = await uow.agents.get(telegram_id=assignee)
            else:
                target = await uow.agents.by_username(username=assignee)
            if target is None:
                raise DeskError("desk.error.unknown_agent", who=str(assignee))
            await self._assign(uow, ticket, target.telegram_id, actor=agent, now=now)
            await self._agent_event(
                uow,
                ticket,
                agent,
                "desk.event.assigned",
                cause=cause,
                now=now,
                assignee=mention(target.telegram_id, target.display_name),
            )
        self._notify()
        return target

    async def set_available(self, agent: AgentRef, *, available: bool) -> Agent:
        async with self._database.unit_of_work() as uow:
            record = await self._agent(uow, agent)
            record.available = available
            record.updated_at = self._clock.now()
            await uow.agents.save(agent=record)
            return record

    async def route(self, uow: UnitOfWork, ticket: Ticket, customer: Customer) -> None:
        """Team and priority from the rules; round-robin to an available team member. In the
        unit of work that registers the ticket, so a registered ticket is always routed."""
        now = self._clock.now()
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
            refresh_due_times(ticket, sla=self._sla, now=now)
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
