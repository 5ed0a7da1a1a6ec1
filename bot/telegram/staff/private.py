"""The desk's part of the private chat: resolution feedback, edits, bans, staff commands refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.services.desk import DeskError, DeskService
from bot.services.desk.bans import BanNoticeDue
from bot.services.tickets import TicketService
from bot.telegram.customer.attachments import incoming
from bot.telegram.filters import MaybeCommand
from bot.telegram.i18n import t, t_plain
from bot.telegram.staff.callbacks import ConfirmCallback
from bot.telegram.staff.group import STAFF_COMMANDS
from storage.models import Customer


class CustomerDeskMiddleware(BaseMiddleware):
    """Runs after the customer is known: keeps banned customers out.

    A banned customer's messages are stored (with their current open ticket, never relayed)
    and they get one polite message per ban; their button presses are ignored.
    """

    def __init__(self, ban_notice_due: BanNoticeDue, tickets: TicketService) -> None:
        self._ban_notice_due = ban_notice_due
        self._tickets = tickets

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        customer: Customer | None = data.get("customer")
        if customer is None or not customer.is_banned:
            return await handler(event, data)
        assert customer.id is not None
        if isinstance(event, CallbackQuery):
            await event.answer()
            return None
        if isinstance(event, Message):
            update: Update | None = data.get("event_update")
            target = await self._tickets.ticket_for_message(customer_id=customer.id)
            await self._tickets.add_customer_message(
                customer_id=customer.id,
                ticket_id=target.id if target and target.status != "closed" else None,
                message=incoming(event, update.update_id if update else None),
            )
            if await self._ban_notice_due(customer.id):
                await event.answer(t("desk.banned.notice"))
        return None


def build_private_router(desk: DeskService) -> Router:
    """The desk's handlers for private chats; it relies on being included in the customer
    router, which keeps it to private chats and has registered the customer."""
    router = Router(name="desk_private")
    router.message.filter(MaybeCommand())  # its message handler is a command

    @router.message(Command(*STAFF_COMMANDS))
    async def staff_command_in_private(message: Message) -> None:
        await message.answer(t("desk.private.refused"))

    @router.callback_query(ConfirmCallback.filter())
    async def confirmation(
        query: CallbackQuery, callback_data: ConfirmCallback, customer: Customer
    ) -> None:
        assert customer.id is not None
        try:
            ticket = await desk.customer_confirms(
                customer_id=customer.id,
                ticket_id=callback_data.ticket_id,
                solved=callback_data.solved,
                cause=f"cb:{query.id}",
            )
        except DeskError as error:
            await query.answer(t_plain(error.key, **error.params), show_alert=True)
            return
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            key = "desk.confirm.thanks" if callback_data.solved else "desk.confirm.reopened"
            await query.message.answer(t(key, number=ticket.number))

    @router.edited_message()
    async def customer_edit(message: Message) -> None:
        plain = message.text if message.text is not None else message.caption
        if not plain:
            return
        await desk.customer_edited(
            message.chat.id,
            message.message_id,
            message.html_text,
            is_caption=message.text is None,
            plain_text=plain,
        )

    return router
