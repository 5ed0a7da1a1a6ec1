"""Banning a customer from the desk and telling them once."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.tickets import ActorKind, EventKind
from bot.services.desk.common import AgentRef, DeskError
from bot.services.desk.notices import Notices
from bot.services.desk.steps import TicketSteps
from bot.services.outbox import Notify, enqueue_card_refresh
from storage.unit_of_work import Database


@dataclass(frozen=True, slots=True)
class SetBanned:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(self, ticket_id: int, agent: AgentRef, *, banned: bool, cause: str) -> None:
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            ticket, customer = await self.steps.load_for_agent(uow, ticket_id, agent)
            assert ticket.id is not None and customer.id is not None
            if customer.is_banned == banned:
                raise DeskError("desk.error.already_banned" if banned else "desk.error.not_banned")
            customer.is_banned = banned
            customer.updated_at = now
            await uow.customers.save(customer=customer)
            active = await uow.bans.active(customer_id=customer.id)
            if banned and active is None:
                await uow.bans.add(customer_id=customer.id, banned_by=agent.user_id, now=now)
            if not banned and active is not None:
                active.lifted_at = now
                await uow.bans.save(ban=active)
            await uow.events.add(
                ticket_id=ticket.id,
                at=now,
                kind=EventKind.BAN if banned else EventKind.UNBAN,
                actor_kind=ActorKind.AGENT,
                actor_id=agent.user_id,
            )
            await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
            await self.notices.agent_event(
                uow,
                ticket,
                agent,
                "desk.event.banned" if banned else "desk.event.unbanned",
                cause=cause,
                now=now,
            )
        self.notify()


@dataclass(frozen=True, slots=True)
class BanNoticeDue:
    database: Database
    clock: Clock

    async def __call__(self, customer_id: int) -> bool:
        """True exactly once per ban: the first time a banned customer writes."""
        async with self.database.unit_of_work() as uow:
            ban = await uow.bans.active(customer_id=customer_id)
            if ban is None or ban.notified_at is not None:
                return False
            ban.notified_at = self.clock.now()
            await uow.bans.save(ban=ban)
            return True
