"""What every staff use case needs: loading a ticket, the acting agent, texts, messages.

Every change and the messages it causes are written in one unit of work; the delivery
worker sends the messages. `cause` identifies the staff action (an update) and makes the
messages' idempotency keys, so a re-delivered update sends nothing twice. Texts for the
staff group are rendered in the desk's locale, texts for the customer in the customer's
locale.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import Actor, TicketStatus
from bot.locales.catalog import Catalogs, Markup
from bot.services.desk.common import AgentRef, CustomerButtons, DeskConfig, DeskError, mention
from bot.services.outbox import Buttons, Notify, enqueue_text
from bot.services.routing import Routing
from bot.services.transitions import apply_transition
from storage.models import Customer, Ticket
from storage.staff_models import Agent
from storage.unit_of_work import Database, UnitOfWork


class DeskCore:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        sla: SlaPolicy,
        catalogs: Catalogs,
        config: DeskConfig,
        buttons: CustomerButtons,
        *,
        routing: Routing | None = None,
        notify: Notify | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._sla = sla
        self._catalogs = catalogs
        self.config = config
        self._buttons = buttons
        self.routing = routing or Routing()
        self._notify = notify or (lambda: None)
        # Customer message -> the message it replies to, until relayed (see CustomerRelay).
        self._replies: OrderedDict[tuple[int, int], int] = OrderedDict()

    def set_notify(self, notify: Notify) -> None:
        self._notify = notify

    # ------------------------------------------------------------------ rendering helpers

    def staff_text(self, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, self.config.staff_locale, **params)

    def _staff_plain(self, key: str) -> str:
        return self._catalogs.plain(key, self.config.staff_locale)

    def _customer_text(self, customer: Customer, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, customer.locale, **params)

    def _signature(self, customer: Customer, agent: AgentRef) -> str:
        if self.config.show_agent_names:
            return agent.name
        return self.config.company_name or self._catalogs.plain("desk.company", customer.locale)

    async def _to_customer(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        *,
        key: str,
        html_text: str,
        now: datetime,
        buttons: Buttons | None = None,
        kind: str = "text",
    ) -> None:
        await enqueue_text(
            uow,
            key=key,
            chat_id=customer.telegram_id,
            html=html_text,
            now=now,
            ticket_id=ticket.id,
            buttons=buttons,
            kind=kind,
        )

    async def _to_topic(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        *,
        key: str,
        html_text: str,
        now: datetime,
        reply_to: int | None = None,
        silent: bool = False,
    ) -> None:
        if self.config.staff_chat_id is None:
            return
        await enqueue_text(
            uow,
            key=key,
            chat_id=self.config.staff_chat_id,
            html=self.staff_text("desk.event.frame", number=ticket.number, text=Markup(html_text)),
            now=now,
            ticket_id=ticket.id,
            ticket_topic=True,
            reply_to=reply_to,
            silent=silent,
        )

    async def _move(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        target: TicketStatus,
        actor: Actor,
        now: datetime,
        comment: str | None = None,
    ) -> None:
        await apply_transition(
            uow, ticket=ticket, target=target, actor=actor, now=now, sla=self._sla, comment=comment
        )

    async def _agent_event(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        agent: AgentRef,
        key: str,
        /,
        *,
        cause: str,
        now: datetime,
        silent: bool = False,
        **params: Any,
    ) -> None:
        """Tell the ticket's topic what an agent did (text `key`, the agent as `agent`)."""
        await self._to_topic(
            uow,
            ticket,
            key=f"{cause}:topic",
            html_text=self.staff_text(key, agent=mention(agent.user_id, agent.name), **params),
            now=now,
            silent=silent,
        )

    # --------------------------------------------------------------------------- loading

    async def _load(
        self, uow: UnitOfWork, ticket_id: int, *, lock: bool = False
    ) -> tuple[Ticket, Customer]:
        """The ticket and its customer; `lock` holds the ticket's row until the unit of work
        ends (every change to a ticket takes it, so concurrent changes take turns)."""
        ticket = await uow.tickets.get(ticket_id=ticket_id, for_update=lock)
        if ticket is None:
            raise DeskError("desk.error.no_ticket")
        customer = await uow.customers.get(customer_id=ticket.customer_id)
        assert customer is not None
        return ticket, customer

    async def _load_for_agent(
        self, uow: UnitOfWork, ticket_id: int, agent: AgentRef
    ) -> tuple[Ticket, Customer]:
        """Load (and lock) the ticket a staff action is about, recording the acting agent
        first."""
        await self._agent(uow, agent)
        return await self._load(uow, ticket_id, lock=True)

    async def _agent(self, uow: UnitOfWork, agent: AgentRef) -> Agent:
        return await uow.agents.upsert(
            telegram_id=agent.user_id,
            display_name=agent.name,
            username=agent.username,
            now=self._clock.now(),
        )
