"""What an agent writes in a ticket's topic goes to the customer (and edits follow)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import Clock
from bot.domain.tickets import TicketStatus
from bot.locales.catalog import Markup
from bot.ops.context import bind_ticket
from bot.services.answers import html_to_plain, record_staff_answer
from bot.services.desk.common import ALBUM_WAIT, AgentMessage, AgentRef, DeskError
from bot.services.desk.notices import Notices
from bot.services.desk.steps import TicketSteps
from bot.services.desk.views import CustomerView, TicketView
from bot.services.outbox import (
    GROUPABLE_MEDIA,
    Link,
    Notify,
    add_to_album,
    enqueue_copy,
    enqueue_edit,
    enqueue_text,
    media_item,
)
from storage.models import Customer, Ticket
from storage.unit_of_work import Database, UnitOfWork


@dataclass(frozen=True, slots=True)
class AgentReply:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(
        self,
        agent: AgentRef,
        message: AgentMessage,
        *,
        ticket_id: int | None = None,
        topic_id: int | None = None,
    ) -> bool:
        """An agent wrote about the ticket with this id, or in this ticket's topic: store it
        and send it to the customer. False when there is no such ticket (the ticket is found,
        locked and read in one statement)."""
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            found = await self.steps.find_for_agent(
                uow, agent, ticket_id=ticket_id, topic_id=topic_id
            )
            if found is None:
                return False
            ticket, customer = found
            bind_ticket(ticket.number)
            assert ticket.id is not None
            status = ticket.status
            if not status.is_open:
                if await uow.staff_tickets.message_by_telegram_id(
                    chat_id=message.chat_id, telegram_message_id=message.message_id
                ):
                    return True  # the update came again: stored and queued the first time
                raise DeskError("desk.error.ticket_finished", number=ticket.number)
            if status in (TicketStatus.NEW, TicketStatus.REOPENED):
                await self.steps.start_work(uow, ticket, agent, now, take=False)
            stored = await record_staff_answer(
                uow,
                ticket=ticket,
                agent_id=agent.user_id,
                now=now,
                sla=self.steps.sla,
                content_type=message.content_type,
                text=message.plain,
                chat_id=message.chat_id,
                telegram_message_id=message.message_id,
                media_group_id=message.media_group_id,
            )
            if not stored:
                # The update came again: stored and queued the first time. Nothing of this
                # unit of work (the moves above included) is kept.
                await uow.rollback()
                return True
            reply_to = None
            if message.reply_to is not None:
                reply_to = await uow.links.counterpart(
                    chat_id=message.chat_id,
                    message_id=message.reply_to,
                    other_chat_id=customer.telegram_id,
                )
            await self._relay(uow, ticket, customer, agent, message, reply_to, now)
        self.notify()
        return True

    async def _relay(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        agent: AgentRef,
        message: AgentMessage,
        reply_to: int | None,
        now: datetime,
    ) -> None:
        key = f"reply:{message.chat_id}:{message.message_id}"
        link: Link = {"source_chat_id": message.chat_id, "source_message_id": message.message_id}
        signed = self.notices.agent_html
        if message.media_group_id and message.media and message.media.type in GROUPABLE_MEDIA:
            caption = signed(customer, agent, message.html) if message.html else None
            await add_to_album(
                uow,
                key=f"reply-album:{message.chat_id}:{message.media_group_id}",
                chat_id=customer.telegram_id,
                item=media_item(
                    message.media.type,
                    message.media.file_id,
                    caption=caption,
                    source_message_id=message.message_id,
                ),
                now=now,
                wait_until=now + ALBUM_WAIT,
                source_chat_id=message.chat_id,
                ticket_id=ticket.id,
                reply_to=reply_to,
            )
            return
        if message.content_type == "text":
            await enqueue_text(
                uow,
                key=key,
                chat_id=customer.telegram_id,
                html=signed(customer, agent, message.html),
                now=now,
                ticket_id=ticket.id,
                reply_to=reply_to,
                link=link,
            )
            return
        caption = None
        if message.media is not None:
            caption = signed(customer, agent, message.html)
        await enqueue_copy(
            uow,
            key=key,
            chat_id=customer.telegram_id,
            from_chat_id=message.chat_id,
            message_id=message.message_id,
            caption=caption,
            now=now,
            ticket_id=ticket.id,
            reply_to=reply_to,
            link=link,
        )


@dataclass(frozen=True, slots=True)
class CannedReply:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(
        self,
        ticket_id: int,
        agent: AgentRef,
        render: Callable[[CustomerView, TicketView], str],
        *,
        cause: str,
    ) -> str:
        """Send a prepared HTML text (a canned reply) to the customer and show it in the topic."""
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            ticket, customer = await self.steps.load_for_agent(uow, ticket_id, agent)
            if not ticket.status.is_open:
                raise DeskError("desk.error.ticket_finished", number=ticket.number)
            body = render(CustomerView.of(customer), TicketView.of(ticket))
            await record_staff_answer(
                uow,
                ticket=ticket,
                agent_id=agent.user_id,
                now=now,
                sla=self.steps.sla,
                content_type="text",
                text=html_to_plain(body),
            )
            await self.notices.to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self.notices.agent_html(customer, agent, body),
                now=now,
            )
            await self.notices.to_topic(
                uow,
                ticket,
                key=f"{cause}:topic",
                html_text=self.notices.staff_text("desk.template.sent", text=Markup(body)),
                now=now,
                silent=True,
            )
        self.notify()
        return body


@dataclass(frozen=True, slots=True)
class AgentEdited:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(self, agent: AgentRef, message: AgentMessage) -> bool:
        """An agent edited a message the customer got: edit the copy too."""
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            ticket_id = await uow.links.ticket_for(
                chat_id=message.chat_id, message_id=message.message_id
            )
            if ticket_id is None:
                return False
            ticket, customer = await self.steps.load(uow, ticket_id)
            copies = await uow.links.copies_of(
                source_chat_id=message.chat_id,
                source_message_id=message.message_id,
                copy_chat_id=customer.telegram_id,
            )
            if not copies:
                return False
            is_caption = message.content_type != "text"
            for copy in copies:
                await enqueue_edit(
                    uow,
                    key=f"edit:{message.chat_id}:{message.message_id}:{now.isoformat()}:{copy.id}",
                    chat_id=customer.telegram_id,
                    message_id=copy.copy_message_id,
                    html=self.notices.agent_html(customer, agent, message.html),
                    caption=is_caption,
                    now=now,
                    ticket_id=ticket.id,
                )
        self.notify()
        return True
