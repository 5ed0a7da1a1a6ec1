"""What a customer writes goes to the ticket's topic, replies and edits included."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import Clock
from bot.domain.tickets import Actor, TicketStatus
from bot.ops.context import bind_ticket
from bot.services.desk.common import ALBUM_WAIT, customer_name, mention
from bot.services.desk.notices import Notices
from bot.services.desk.steps import TicketSteps
from bot.services.outbox import (
    GROUPABLE_MEDIA,
    Notify,
    add_to_album,
    enqueue_copy,
    enqueue_edit,
    enqueue_text,
    media_item,
)
from storage.models import Attachment, Customer, Ticket, TicketMessage
from storage.unit_of_work import Database, UnitOfWork


@dataclass(frozen=True, slots=True)
class RelayCustomerMessage:
    clock: Clock
    steps: TicketSteps
    notices: Notices

    async def __call__(
        self,
        uow: UnitOfWork,
        *,
        ticket: Ticket,
        message: TicketMessage,
        files: Sequence[Attachment],
        reply_to: int | None,
        starts_burst: bool,
    ) -> bool:
        """Relay a just-stored customer message into the ticket's topic and move the status,
        in the caller's unit of work; returns True when the status changed. `reply_to` is
        the customer's message this one replies to (in their chat); the first message of a
        burst (`starts_burst`) comes under a header saying who writes.

        The caller notifies the delivery worker after its commit.
        """
        bind_ticket(ticket.number)
        now = self.clock.now()
        staff_chat = self.notices.config.staff_chat_id
        customer = await uow.customers.get(customer_id=ticket.customer_id)
        assert customer is not None and ticket.id is not None and message.id is not None
        if customer.is_banned:
            return False
        if customer.is_unreachable:
            customer.is_unreachable = False
            await uow.customers.save(customer=customer)
        changed = await self._move_status(uow, ticket, customer, now)
        if staff_chat is None or message.telegram_message_id is None:
            return changed
        if starts_burst:
            await enqueue_text(
                uow,
                key=f"relay-header:{message.id}",
                chat_id=staff_chat,
                html=self.notices.staff_text(
                    "desk.relay.header",
                    number=ticket.number,
                    name=mention(customer.telegram_id, customer_name(customer)),
                ),
                now=now,
                ticket_id=ticket.id,
                ticket_topic=True,
            )
        await _relay_to_topic(uow, ticket, customer, message, files, reply_to, staff_chat, now)
        return changed

    async def _move_status(
        self, uow: UnitOfWork, ticket: Ticket, customer: Customer, now: datetime
    ) -> bool:
        status = ticket.status
        actor = Actor.customer(customer.id or 0)
        cause = f"customer-wrote:{ticket.id}:{now.isoformat()}"
        if status is TicketStatus.WAITING_CUSTOMER:
            await self.steps.move(uow, ticket, TicketStatus.IN_PROGRESS, actor, now)
            who = (
                mention(ticket.assignee_id, await _agent_name(uow, ticket.assignee_id))
                if ticket.assignee_id
                else self.notices.staff_text("desk.who.team")
            )
            await self.notices.to_topic(
                uow,
                ticket,
                key=f"{cause}:ping",
                html_text=self.notices.staff_text("desk.event.customer_answered", who=who),
                now=now,
            )
            return True
        if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            finished = ticket.closed_at or ticket.resolved_at or ticket.updated_at
            if now - finished > self.notices.config.reopen_window:
                return False
            await self.steps.move(
                uow, ticket, TicketStatus.REOPENED, actor, now, comment="customer wrote"
            )
            await self.notices.status_changed(uow, ticket, customer, None, status, now, cause)
            return True
        return False


async def _agent_name(uow: UnitOfWork, telegram_id: int) -> str:
    agent = await uow.agents.get(telegram_id=telegram_id)
    return agent.display_name if agent else str(telegram_id)


async def _relay_to_topic(
    uow: UnitOfWork,
    ticket: Ticket,
    customer: Customer,
    message: TicketMessage,
    files: Sequence[Attachment],
    reply_source: int | None,
    staff_chat: int,
    now: datetime,
) -> None:
    assert message.telegram_message_id is not None and message.id is not None
    source_chat = customer.telegram_id
    reply_to = None
    if reply_source is not None:
        reply_to = await uow.links.counterpart(
            chat_id=source_chat, message_id=reply_source, other_chat_id=staff_chat
        )
    if message.media_group_id and files and files[0].kind in GROUPABLE_MEDIA:
        caption = html.escape(message.text, quote=False) if message.text else None
        await add_to_album(
            uow,
            key=f"relay-album:{ticket.id}:{message.media_group_id}",
            chat_id=staff_chat,
            item=media_item(
                files[0].kind,
                files[0].file_id,
                caption=caption,
                source_message_id=message.telegram_message_id,
            ),
            now=now,
            wait_until=now + ALBUM_WAIT,
            source_chat_id=source_chat,
            ticket_id=ticket.id,
            ticket_topic=True,
            reply_to=reply_to,
        )
        return
    await enqueue_copy(
        uow,
        key=f"relay:{message.id}",
        chat_id=staff_chat,
        from_chat_id=source_chat,
        message_id=message.telegram_message_id,
        now=now,
        ticket_id=ticket.id,
        ticket_topic=True,
        reply_to=reply_to,
        link={"source_chat_id": source_chat, "source_message_id": message.telegram_message_id},
    )


@dataclass(frozen=True, slots=True)
class CustomerEdited:
    database: Database
    clock: Clock
    notices: Notices
    notify: Notify

    async def __call__(
        self,
        customer_chat_id: int,
        message_id: int,
        html_text: str,
        *,
        is_caption: bool,
        plain_text: str,
    ) -> bool:
        """The customer edited a message: the history keeps the new `plain_text`, the topic's
        copy is edited with `html_text`."""
        now = self.clock.now()
        staff_chat = self.notices.config.staff_chat_id
        if staff_chat is None:
            return False
        async with self.database.unit_of_work() as uow:
            copies = await uow.links.copies_of(
                source_chat_id=customer_chat_id,
                source_message_id=message_id,
                copy_chat_id=staff_chat,
            )
            stored = await uow.staff_tickets.message_by_telegram_id(
                chat_id=customer_chat_id, telegram_message_id=message_id
            )
            if stored is not None:
                stored.text = plain_text
                stored.edited_at = now
                await uow.messages.add(message=stored)
            for copy in copies:
                await enqueue_edit(
                    uow,
                    key=f"edit:{customer_chat_id}:{message_id}:{now.isoformat()}:{copy.id}",
                    chat_id=staff_chat,
                    message_id=copy.copy_message_id,
                    html=html_text,
                    caption=is_caption,
                    now=now,
                    ticket_id=copy.ticket_id,
                )
        self.notify()
        return bool(copies)
