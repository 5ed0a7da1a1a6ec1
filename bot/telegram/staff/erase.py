"""`/erase` in a ticket's topic: an administrator erases that customer's personal data (for
requests that came by e-mail, phone or letter), after one confirmation."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.tickets import Actor
from bot.services.desk import AgentRef, DeskService
from bot.services.privacy import NothingToErase, PrivacyService, is_erased
from bot.telegram.i18n import t, t_count, t_plain
from bot.telegram.staff.access import StaffDirectory
from bot.telegram.staff.group import ticket_of


class EraseCallback(CallbackData, prefix="er"):
    action: str  # go, cancel
    ticket_id: int


def _keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t_plain("privacy.erase.button"),
        callback_data=EraseCallback(action="go", ticket_id=ticket_id),
    )
    builder.button(
        text=t_plain("privacy.erase.cancel"),
        callback_data=EraseCallback(action="cancel", ticket_id=ticket_id),
    )
    return builder.as_markup()


async def forget_conversation(storage: BaseStorage, bot: Bot, telegram_id: int) -> None:
    """Drop the customer's conversation state (a half-filled form holds their answers)."""
    key = StorageKey(bot_id=bot.id, chat_id=telegram_id, user_id=telegram_id)
    await storage.set_state(key, None)
    await storage.set_data(key, {})


def build_router(desk: DeskService, privacy: PrivacyService, directory: StaffDirectory) -> Router:
    router = Router(name="staff_erase")

    @router.message(Command("erase"))
    async def erase(message: Message, agent: AgentRef) -> None:
        if agent.user_id not in await directory.admins():
            await message.reply(t("privacy.erase.admins_only"))
            return
        ticket = await ticket_of(message, desk)
        if ticket is None or ticket.id is None:
            await message.reply(t("desk.error.not_in_topic"))
            return
        customer = await privacy.customer_of_ticket(ticket.id)
        if customer is None or is_erased(customer):
            await message.reply(t("privacy.erase.nothing"))
            return
        await message.reply(t("privacy.erase.ask"), reply_markup=_keyboard(ticket.id))

    @router.callback_query(EraseCallback.filter(F.action == "cancel"))
    async def cancel(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(t("privacy.erase.cancelled"))

    @router.callback_query(EraseCallback.filter(F.action == "go"))
    async def go(
        query: CallbackQuery,
        callback_data: EraseCallback,
        agent: AgentRef,
        bot: Bot,
        fsm_storage: BaseStorage,
    ) -> None:
        if agent.user_id not in await directory.admins():
            await query.answer(t_plain("privacy.erase.admins_only"), show_alert=True)
            return
        await query.answer()
        customer = await privacy.customer_of_ticket(callback_data.ticket_id)
        text = t("privacy.erase.nothing")
        if customer is not None and customer.id is not None and not is_erased(customer):
            telegram_id = customer.telegram_id
            try:
                report = await privacy.erase(
                    customer_id=customer.id, actor=Actor.agent(agent.user_id)
                )
            except NothingToErase:
                pass
            else:
                await forget_conversation(fsm_storage, bot, telegram_id)
                counts = report.counts
                text = t(
                    "privacy.erase.done",
                    agent=agent.name,
                    tickets=t_count("count.tickets", counts.get("tickets", 0)),
                    messages=t_count("count.messages", counts.get("messages", 0)),
                    attachments=t_count("count.files", counts.get("attachments", 0)),
                    questions=t_count("count.questions", counts.get("kb_questions", 0)),
                    closed=", ".join(report.closed) or "—",
                )
        if isinstance(query.message, Message):
            await query.message.edit_text(text)

    return router
