"""The last line of defence: an unexpected error never loses what the customer sent."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.services.customers import CustomerService
from bot.services.outbox import Outbox
from bot.services.tickets import TicketService
from bot.telegram.customer.attachments import incoming
from bot.telegram.i18n import CatalogI18n
from bot.telegram.middlewares import profile_of

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent,
    bot: Bot,
    customers: CustomerService,
    tickets: TicketService,
    i18n: CatalogI18n,
    outbox: Outbox,
    staff_chat_id: int | None = None,
) -> bool:
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception, exc_info=event.exception)
    if update.callback_query is not None:
        await _answer_failed_press(update.callback_query, bot, i18n)
        return True
    message: Message | None = update.message or update.edited_message
    if message is None or message.chat.type != "private" or message.from_user is None:
        return True
    try:
        customer = await customers.register(profile_of(message.from_user))
        assert customer.id is not None
        stored = await tickets.store_after_failure(
            customer_id=customer.id, message=incoming(message, update.update_id)
        )
    except Exception:
        log.critical("could not store the message of failed update %s", update.update_id)
        return True
    # Through the outbox, like every answer about a stored message: a delivery problem is
    # retried by the worker instead of failing the error path too.
    with i18n.context(), i18n.use_locale(customer.locale):
        received = i18n.render("error.received")
    await outbox.send_text(
        key=f"error-received:{message.chat.id}:{message.message_id}",
        chat_id=message.chat.id,
        html=received,
    )
    if staff_chat_id is not None:
        await outbox.send_text(
            key=f"error-alarm:{message.chat.id}:{message.message_id}",
            chat_id=staff_chat_id,
            html=i18n.catalogs.render(
                "staff.error.unhandled",
                i18n.default_locale,
                update_id=update.update_id,
                customer=customer.telegram_id,
                message_id=stored.id,
            ),
        )
    return True


async def _answer_failed_press(query: CallbackQuery, bot: Bot, i18n: CatalogI18n) -> None:
    """Stop the button's spinner and say something went wrong (the press may already have
    been answered before the failure: then Telegram refuses this one, which is fine)."""
    locale = i18n.catalogs.resolve_locale(query.from_user.language_code)
    try:
        await bot.answer_callback_query(query.id, i18n.catalogs.plain("button.failed", locale))
    except TelegramAPIError:
        log.debug("callback query %s was already answered", query.id)
