"""Resolving a ticket: the decision recorded, the customer told (the survey follows)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.tickets import Actor, ResolutionType, TicketStatus
from bot.services.desk.common import AgentRef, CustomerButtons, DeskError
from bot.services.desk.notices import Notices
from bot.services.desk.steps import TicketSteps
from bot.services.desk.views import TicketView
from bot.services.outbox import Notify
from storage.unit_of_work import Database


@dataclass(frozen=True, slots=True)
class Resolve:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    buttons: CustomerButtons
    notify: Notify

    async def __call__(
        self,
        ticket_id: int,
        agent: AgentRef,
        *,
        resolution: ResolutionType,
        text: str,
        cause: str,
        customer_kind: str = "text",
    ) -> TicketView:
        """Record the decision, tell the customer (an outbox row of `customer_kind`) and the
        topic; the survey follows from the resolved status as always."""
        if not text.strip():
            raise DeskError("desk.error.resolve_needs_text")
        now = self.clock.now()
        notices = self.notices
        async with self.database.unit_of_work() as uow:
            ticket, customer = await self.steps.load_for_agent(uow, ticket_id, agent)
            await self.steps.move(
                uow, ticket, TicketStatus.RESOLVED, Actor.agent(agent.user_id), now, comment=text
            )
            assert ticket.id is not None
            ticket.resolution_type = resolution
            ticket.resolution_text = text
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            await uow.tickets.save(ticket=ticket)
            await notices.to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=notices.customer_text(
                    customer,
                    "desk.customer.resolved",
                    number=ticket.number,
                    decision=notices.customer_plain(
                        customer, f"desk.resolution.{resolution.value}"
                    ),
                    text=text,
                ),
                now=now,
                buttons=self.buttons.resolution_feedback(ticket.id, customer.locale),
                kind=customer_kind,
            )
            await notices.agent_event(
                uow,
                ticket,
                agent,
                "desk.event.resolved",
                cause=cause,
                now=now,
                decision=notices.staff_plain(f"desk.resolution.{resolution.value}"),
                text=text,
            )
            view = TicketView.of(ticket)
        self.notify()
        return view
