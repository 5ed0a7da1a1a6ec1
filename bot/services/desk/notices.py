"""The messages staff actions cause: texts rendered in the right locale, queued in the outbox.

Texts for the staff group are rendered in the desk's locale, texts for the customer in the
customer's locale. `cause` identifies the staff action (an update) and makes the messages'
idempotency keys, so a re-delivered update sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.tickets import TicketStatus
from bot.locales.catalog import Catalogs, Markup
from bot.services.desk.common import AgentRef, DeskConfig, mention
from bot.services.outbox import Buttons, enqueue_text
from storage.models import Customer, Ticket
from storage.unit_of_work import UnitOfWork

CUSTOMER_STATUS_NOTICES = frozenset(
    {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER, TicketStatus.CLOSED}
)


class Notices:
    def __init__(self, catalogs: Catalogs, config: DeskConfig) -> None:
        self._catalogs = catalogs
        self.config = config

    # ------------------------------------------------------------------------- texts

    def staff_text(self, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, self.config.staff_locale, **params)

    def staff_plain(self, key: str) -> str:
        return self._catalogs.plain(key, self.config.staff_locale)

    def customer_text(self, customer: Customer, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, customer.locale, **params)

    def customer_plain(self, customer: Customer, key: str) -> str:
        return self._catalogs.plain(key, customer.locale)

    def signature(self, customer: Customer, agent: AgentRef) -> str:
        if self.config.show_agent_names:
            return agent.name
        return self.config.company_name or self._catalogs.plain("desk.company", customer.locale)

    def agent_html(self, customer: Customer, agent: AgentRef, body: str | None) -> str:
        """What the customer sees of an agent's message: the signature, then the text."""
        signature = self.signature(customer, agent)
        if not body:
            return self.customer_text(customer, "desk.reply.header", agent=signature)
        return self.customer_text(
            customer, "desk.reply.with_text", agent=signature, text=Markup(body)
        )

    # ---------------------------------------------------------------------- messages

    async def to_customer(
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

    async def to_topic(
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

    async def agent_event(
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
        await self.to_topic(
            uow,
            ticket,
            key=f"{cause}:topic",
            html_text=self.staff_text(key, agent=mention(agent.user_id, agent.name), **params),
            now=now,
            silent=silent,
        )

    async def status_changed(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        agent: AgentRef | None,
        previous: TicketStatus,
        now: datetime,
        cause: str,
    ) -> None:
        """The customer hears of the statuses that concern them; the topic of every change
        (`agent` None: the customer caused it)."""
        status = ticket.status
        if status in CUSTOMER_STATUS_NOTICES or status is TicketStatus.REOPENED:
            await self.to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self.customer_text(
                    customer, f"desk.customer.status.{status.value}", number=ticket.number
                ),
                now=now,
            )
        who = mention(agent.user_id, agent.name) if agent else self.staff_text("desk.who.customer")
        await self.to_topic(
            uow,
            ticket,
            key=f"{cause}:topic",
            html_text=self.staff_text(
                "desk.event.status",
                who=who,
                old=self.staff_plain(f"desk.status.{previous.value}"),
                new=self.staff_plain(f"desk.status.{status.value}"),
            ),
            now=now,
            silent=True,
        )
