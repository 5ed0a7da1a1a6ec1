"""What a customer writes goes to the ticket's topic, replies and edits included."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from bot.domain.tickets import Actor, TicketStatus
from bot.ops.context import bind_ticket
from bot.services.desk.common import ALBUM_WAIT, customer_name, mention
from bot.services.desk.status import StatusChanges
from bot.services.outbox import (
    GROUPABLE_MEDIA,
    add_to_album,
    enqueue_copy,
    enqueue_edit,
    enqueue_text,
    media_item,
)
from storage.models import Attachment, Customer, Ticket, TicketMessage
from storage.unit_of_work import UnitOfWork


class CustomerRelay(StatusChanges):
    def remember_reply(self, chat_id: int, message_id: int, reply_to: int) -> None:
        """The adapter tells which message a customer message replies to (not stored)."""
        self._replies[(chat_id, message_id)] = reply_to
        while len(self._replies) > 10_000:
            self._replies.popitem(last=False)

    async def relay_customer_message(
        self,
        uow: UnitOfWork,
        *,
        ticket: Ticket,
        message: TicketMessage,
        files: Sequence[Attachment],
    ) -> bool:
        """Relay a just-stored customer message into the ticket's topic and move the status,
        in the caller's unit of work; returns True when the status changed.

        The caller notifies the delivery worker after its commit.
        """
        bind_ticket(ticket.number)
        now = self._clock.now()
        staff_chat = self.config.staff_chat_id
        customer = await uow.customers.get(customer_id=ticket.customer_id)
        assert customer is not None and ticket.id is not None and message.id is not None
        if customer.is_banned:
            return False
        if customer.is_unreachable:
            customer.is_unreachable = False
            await uow.customers.save(customer=customer)
        changed = await self._customer_moves_status(uow, ticket, customer, now)
        if staff_chat is None or message.telegram_message_id is None:
            return changed
        previous = await uow.staff_tickets.previous_message(
            ticket_id=ticket.id, before_id=message.id
        )
        if (
            previous is None
            or previous.direction != "in"
            or now - previous.created_at > self.config.burst
        ):
            await enqueue_text(
                uow,
                key=f"relay-header:{message.id}",
                chat_id=staff_chat,
                html=self.staff_text(
                    "desk.relay.header",
                    number=ticket.number,
                    name=mention(customer.telegram_id, customer_name(customer)),
                ),
                now=now,
                ticket_id=ticket.id,
                ticket_topic=True,
            )
        await self._relay_to_topic(uow, ticket, customer, message, files, staff_chat, now)
        return changed

    async def _customer_moves_status(
        self, uow: UnitOfWork, ticket: Ticket, customer: Customer, now: datetime
    ) -> bool:
        status = ticket.status
        actor = Actor.customer(customer.id or 0)
        cause = f"customer-wrote:{ticket.id}:{now.isoformat()}"
        if status is TicketStatus.WAITING_CUSTOMER:
            await self._move(uow, ticket, TicketStatus.IN_PROGRESS, actor, now)
            who = (
                mention(ticket.assignee_id, await self._agent_name(uow, ticket.assignee_id))
                if ticket.assignee_id
                else self.staff_text("desk.who.team")
            )
            await self._to_topic(
                uow,
                ticket,
                key=f"{cause}:ping",
                html_text=self.staff_text("desk.event.customer_answered", who=who),
                now=now,
            )
            return True
        if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            finished = ticket.closed_at or ticket.resolved_at or ticket.updated_at
            if now - finished > self.config.reopen_window:
                return False
            await self._move(
                uow, ticket, TicketStatus.REOPENED, actor, now, comment="customer wrote"
            )
            await self._status_messages(uow, ticket, customer, None, status, now, cause)
            return True
        return False

    async def _agent_name(self, uow: UnitOfWork, telegram_id: int) -> str:
        agent = await uow.agents.get(telegram_id=telegram_id)
        return agent.display_name if agent else str(telegram_id)

    async def _relay_to_topic(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        files: Sequence[Attachment],
        staff_chat: int,
        now: datetime,
    ) -> None:
        assert message.telegram_message_id is not None and message.id is not None
        source_chat = customer.telegram_id
        reply_source = self._replies.pop((source_chat, message.telegram_message_id), None)
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

    async def customer_edited(
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
        now = self._clock.now()
        staff_chat = self.config.staff_chat_id
        if staff_chat is None:
            return False
        async with self._database.unit_of_work() as uow:
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
        self._notify()
        return bool(copies)
