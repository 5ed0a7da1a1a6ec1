"""The generic form engine: one set of handlers interprets whatever form schema it is given.

This module holds the commands and buttons and assembles the router; the way through the
steps is `form_flow.py`, typed answers `form_input.py`, submitting `form_submit.py`, and
what the customer sees `form_view.py`.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.domain.form import StepKind, validate_option
from bot.services.knowledge import KnowledgeService
from bot.services.tickets import TicketService
from bot.telegram.callbacks import FormCallback, MenuCallback
from bot.telegram.customer.form_flow import (
    FormEngine,
    accept,
    answers_of,
    cancel_form,
    go_to,
    start_form,
)
from bot.telegram.customer.form_input import step_input, summary_input
from bot.telegram.customer.form_submit import submit
from bot.telegram.customer.states import ComplaintFlow
from bot.telegram.i18n import t
from bot.telegram.keyboards import main_menu
from storage.models import Customer

FORM_STATES = StateFilter(ComplaintFlow.filling, ComplaintFlow.summary)


async def complaint_command(
    message: Message, bot: Bot, state: FSMContext, form_engine: FormEngine
) -> None:
    await start_form(bot, message.chat.id, form_engine, state)


async def complaint_button(
    query: CallbackQuery, bot: Bot, state: FSMContext, form_engine: FormEngine
) -> None:
    await query.answer()
    await start_form(bot, query.from_user.id, form_engine, state)


async def cancel_command(message: Message, bot: Bot, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(t("form.nothing_to_cancel"), reply_markup=main_menu())
        return
    await cancel_form(bot, message.chat.id, state)


async def form_button(
    query: CallbackQuery,
    callback_data: FormCallback,
    bot: Bot,
    state: FSMContext,
    form_engine: FormEngine,
    tickets: TicketService,
    knowledge: KnowledgeService,
    customer: Customer,
) -> None:
    data = await state.get_data()
    answers = answers_of(data)
    chat_id = query.from_user.id
    current = data.get("step")
    action = callback_data.action
    in_summary = await state.get_state() == ComplaintFlow.summary.state
    if action == "cancel":
        await query.answer()
        await cancel_form(bot, chat_id, state)
        return
    if action in ("edit", "submit"):
        if not in_summary:
            await query.answer(t("form.button_outdated"), show_alert=True)
            return
        await query.answer()
        if action == "submit":
            ticket = await submit(
                bot, chat_id, form_engine, state, tickets, customer, answers, data.get("form_id")
            )
            if ticket is not None and data.get("kb_query"):
                await knowledge.link_ticket(
                    query_id=int(data["kb_query"]), customer_id=customer.id, ticket=ticket
                )
        else:
            step = form_engine.schema.step(callback_data.step, answers)
            await go_to(bot, chat_id, form_engine, state, step, answers, editing=True)
        return
    if in_summary or callback_data.step != current:
        await query.answer(t("form.button_outdated"), show_alert=True)
        return
    await query.answer()
    step = form_engine.schema.step(callback_data.step, answers)
    if action == "back":
        previous = form_engine.schema.previous_step(step.id, answers)
        if previous is not None:
            await go_to(bot, chat_id, form_engine, state, previous, answers, editing=False)
        return
    if action == "pick":
        options = form_engine.schema.categories if step.kind is StepKind.CATEGORY else step.options
        verdict = validate_option(options, callback_data.value)
        if verdict.ok:
            await accept(bot, chat_id, form_engine, state, step, verdict.value)
        return
    if action in ("today", "yesterday"):
        day = form_engine.today() - timedelta(days=1 if action == "yesterday" else 0)
        await accept(bot, chat_id, form_engine, state, step, day.isoformat())
        return
    if action == "other":
        await bot.send_message(
            chat_id, t("form.date_other", example=form_engine.today().strftime("%d.%m.%Y"))
        )
        return
    if action == "done":
        await accept(bot, chat_id, form_engine, state, step, answers.get(step.id) or [])
        return
    if action == "skip" and not step.required:
        await accept(
            bot, chat_id, form_engine, state, step, [] if step.kind is StepKind.FILES else None
        )


async def stale_form_button(query: CallbackQuery) -> None:
    await query.answer(t("form.closed"), show_alert=True)


def build_router() -> Router:
    router = Router(name="complaint_form")
    router.message.register(complaint_command, Command("complaint"))
    router.callback_query.register(complaint_button, MenuCallback.filter(F.action == "complaint"))
    router.message.register(cancel_command, Command("cancel"))
    router.message.register(summary_input, StateFilter(ComplaintFlow.summary))
    router.message.register(step_input, StateFilter(ComplaintFlow.filling))
    router.callback_query.register(form_button, FormCallback.filter(), FORM_STATES)
    router.callback_query.register(stale_form_button, FormCallback.filter())
    return router
