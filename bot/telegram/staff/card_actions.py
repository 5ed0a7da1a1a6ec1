"""The ticket card's buttons: one handler per action.

Actions that change the ticket answer "Done" (the change queued the card's refresh) or, when
refused, explain why in an alert and put the card's own buttons back. Menus (assign, priority,
resolve) replace the card's buttons in place, so they need the card's message and a ticket
that exists; a press that fails these checks is answered as out of date.
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import suppress
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain.tickets import IllegalTransition, Priority, TicketStatus
from bot.services.desk import AgentRef, DeskError
from bot.telegram.formatting import local_datetime
from bot.telegram.i18n import t, t_plain
from bot.telegram.staff.callbacks import CardCallback
from bot.telegram.staff.card import assign_keyboard, priority_keyboard
from bot.telegram.staff.explain import explain_plain
from bot.telegram.staff.group import StaffContext
from bot.telegram.staff.resolve_flow import ask_decision, cancel, resolution_keyboard
from bot.telegram.stale_buttons import out_of_date


def _cause(query: CallbackQuery) -> str:
    return f"cb:{query.id}"


def build_card_router(ctx: StaffContext) -> Router:
    router = Router(name="staff_card")
    desk = ctx.desk

    async def known_ticket(query: CallbackQuery, callback_data: CardCallback) -> bool:
        return await desk.cards.exists(callback_data.ticket_id)

    async def on_card(query: CallbackQuery, callback_data: CardCallback) -> bool | dict[str, Any]:
        """The button is on a message the bot can still edit (Telegram sends only a stub of
        messages older than two days) and its ticket exists; the handler gets the message as
        `card`."""
        if not isinstance(query.message, Message) or not await known_ticket(query, callback_data):
            return False
        return {"card": query.message}

    async def act(query: CallbackQuery, ticket_id: int, change: Awaitable[object]) -> None:
        try:
            await change
        except (IllegalTransition, DeskError) as error:
            await query.answer(explain_plain(error), show_alert=True)
            with suppress(DeskError):  # a forged press may name a ticket that does not exist
                await desk.request_card_refresh(ticket_id)  # puts the card's own buttons back
            return
        await query.answer(t_plain("desk.done"))

    async def show_menu(
        query: CallbackQuery, card: Message, ticket_id: int, menu: InlineKeyboardMarkup
    ) -> None:
        await query.answer()
        await ctx.threads.card_keyboard_replaced(ticket_id)
        await card.edit_reply_markup(reply_markup=menu)

    @router.callback_query(CardCallback.filter(F.action == "take"))
    async def take(query: CallbackQuery, callback_data: CardCallback, agent: AgentRef) -> None:
        tid = callback_data.ticket_id
        await act(query, tid, desk.take(tid, agent, cause=_cause(query)))

    @router.callback_query(CardCallback.filter(F.action == "status"))
    async def status(query: CallbackQuery, callback_data: CardCallback, agent: AgentRef) -> None:
        tid, target = callback_data.ticket_id, TicketStatus(callback_data.value)
        await act(query, tid, desk.set_status(tid, agent, target, cause=_cause(query)))

    @router.callback_query(CardCallback.filter(F.action == "close"))
    async def close(query: CallbackQuery, callback_data: CardCallback, agent: AgentRef) -> None:
        tid = callback_data.ticket_id
        await act(query, tid, desk.set_status(tid, agent, TicketStatus.CLOSED, cause=_cause(query)))

    @router.callback_query(CardCallback.filter(F.action == "reopen"))
    async def reopen(query: CallbackQuery, callback_data: CardCallback, agent: AgentRef) -> None:
        tid = callback_data.ticket_id
        await act(
            query, tid, desk.set_status(tid, agent, TicketStatus.REOPENED, cause=_cause(query))
        )

    @router.callback_query(CardCallback.filter(F.action == "priority_set"))
    async def priority_set(
        query: CallbackQuery, callback_data: CardCallback, agent: AgentRef
    ) -> None:
        tid, level = callback_data.ticket_id, Priority(callback_data.value)
        await act(query, tid, desk.set_priority(tid, agent, level, cause=_cause(query)))

    @router.callback_query(CardCallback.filter(F.action == "assign_to"))
    async def assign_to(query: CallbackQuery, callback_data: CardCallback, agent: AgentRef) -> None:
        tid, assignee = callback_data.ticket_id, int(callback_data.value)
        await act(query, tid, desk.assign(tid, agent, assignee=assignee, cause=_cause(query)))

    @router.callback_query(CardCallback.filter(F.action == "resolve"), on_card)
    async def resolve(query: CallbackQuery, callback_data: CardCallback, card: Message) -> None:
        tid = callback_data.ticket_id
        await show_menu(query, card, tid, resolution_keyboard(tid, ctx.style))

    @router.callback_query(CardCallback.filter(F.action == "priority"), on_card)
    async def priority(query: CallbackQuery, callback_data: CardCallback, card: Message) -> None:
        tid = callback_data.ticket_id
        await show_menu(query, card, tid, priority_keyboard(tid, ctx.style))

    @router.callback_query(CardCallback.filter(F.action == "assign"), on_card)
    async def assign(query: CallbackQuery, callback_data: CardCallback, card: Message) -> None:
        tid = callback_data.ticket_id
        agents = await desk.cards.agents()
        await show_menu(query, card, tid, assign_keyboard(tid, agents, ctx.style))

    @router.callback_query(CardCallback.filter(F.action == "back"), known_ticket)
    async def back(query: CallbackQuery, callback_data: CardCallback) -> None:
        """From a menu back to the card's own buttons."""
        await act(
            query, callback_data.ticket_id, desk.request_card_refresh(callback_data.ticket_id)
        )

    @router.callback_query(CardCallback.filter(F.action == "resolve_type"), on_card)
    async def resolve_type(
        query: CallbackQuery,
        callback_data: CardCallback,
        card: Message,
        agent: AgentRef,
        state: FSMContext,
    ) -> None:
        await ask_decision(query, card, callback_data, agent, state)
        await desk.request_card_refresh(callback_data.ticket_id)

    @router.callback_query(CardCallback.filter(F.action == "resolve_cancel"))
    async def resolve_cancel(query: CallbackQuery, state: FSMContext) -> None:
        await cancel(query, state)

    @router.callback_query(CardCallback.filter(F.action == "history"), known_ticket)
    async def history(query: CallbackQuery, callback_data: CardCallback) -> None:
        await query.answer()
        ticket, tickets = await desk.cards.customer_history(callback_data.ticket_id)
        lines = [t("desk.history.title", number=ticket.number)]
        for item in tickets:
            lines.append(
                t(
                    "desk.history.line",
                    number=item.number,
                    status=t_plain(f"desk.status.{item.status}"),
                    category=ctx.style.category_titles.get(item.category, item.category),
                    created=local_datetime(item.created_at, ctx.style.zone),
                )
            )
        if isinstance(query.message, Message):
            await query.message.answer("\n".join(lines))

    router.callback_query.register(out_of_date)
    return router
