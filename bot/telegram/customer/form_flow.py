"""The form's way through its steps: asking a step, taking an answer, the summary, cancelling.

A form's state lives in the conversation (FSM) data: the answers so far, the step being
asked, and whether the customer came from the summary to change one answer (`editing`).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import ReplyKeyboardRemove

from bot.domain.clock import Clock
from bot.domain.form import FormSchema, Step
from bot.telegram.customer.form_view import (
    StepKeyboards,
    step_prompt,
    summary_keyboard,
    summary_text,
)
from bot.telegram.customer.states import ComplaintFlow
from bot.telegram.i18n import t
from bot.telegram.keyboards import main_menu


class FormEngine:
    """Everything the handlers need to run a form: its schema, the clock and the time zone."""

    def __init__(self, schema: FormSchema, clock: Clock, zone: ZoneInfo) -> None:
        self.schema = schema
        self.clock = clock
        self.zone = zone
        self.keyboards = StepKeyboards(schema)

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()


def answers_of(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data.get("answers") or {})


async def ask(
    bot: Bot,
    chat_id: int,
    engine: FormEngine,
    step: Step,
    answers: dict[str, Any],
    *,
    error: str | None = None,
) -> None:
    first = step.id == engine.schema.first_step().id
    text = step_prompt(step)
    if error:
        text = f"{error}\n\n{text}"
    await bot.send_message(
        chat_id, text, reply_markup=engine.keyboards.for_step(step, answers, first=first)
    )


async def show_summary(
    bot: Bot, chat_id: int, engine: FormEngine, state: FSMContext, answers: dict[str, Any]
) -> None:
    await state.set_state(ComplaintFlow.summary)
    await state.update_data(step=None, editing=False, answers=answers)
    await bot.send_message(
        chat_id,
        summary_text(engine.schema, answers),
        reply_markup=summary_keyboard(engine.schema, answers),
    )


async def go_to(
    bot: Bot,
    chat_id: int,
    engine: FormEngine,
    state: FSMContext,
    step: Step,
    answers: dict[str, Any],
    *,
    editing: bool,
) -> None:
    await state.set_state(ComplaintFlow.filling)
    await state.update_data(step=step.id, answers=answers, editing=editing)
    await ask(bot, chat_id, engine, step, answers)


async def accept(
    bot: Bot, chat_id: int, engine: FormEngine, state: FSMContext, step: Step, value: Any
) -> None:
    """Record an answer and move to the next step, or back to the summary when editing."""
    data = await state.get_data()
    answers = answers_of(data)
    answers[step.id] = value
    answers = engine.schema.prune(answers)
    if data.get("editing"):
        missing = engine.schema.first_unanswered(answers)
        if missing is None:
            await show_summary(bot, chat_id, engine, state, answers)
        else:
            await go_to(bot, chat_id, engine, state, missing, answers, editing=True)
        return
    following = engine.schema.next_unanswered(step.id, answers)
    if following is None:
        await show_summary(bot, chat_id, engine, state, answers)
    else:
        await go_to(bot, chat_id, engine, state, following, answers, editing=False)


async def start_form(
    bot: Bot,
    chat_id: int,
    engine: FormEngine,
    state: FSMContext,
    *,
    prefill: dict[str, Any] | None = None,
    kb_query: int | None = None,
) -> None:
    """Start the complaint form; `prefill` answers steps in advance (they are not asked but
    stay editable from the summary), `kb_query` links the ticket to the question it came from."""
    # The form's id makes submitting it idempotent (see TicketService.open_complaint).
    fresh: dict[str, Any] = {"form_id": uuid4().hex}
    if kb_query:
        fresh["kb_query"] = kb_query
    await state.set_data(fresh)
    await bot.send_message(chat_id, t("form.intro"))
    answers = dict(prefill or {})
    await go_to(bot, chat_id, engine, state, engine.schema.first_step(), answers, editing=False)


async def cancel_form(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.clear()
    await bot.send_message(chat_id, t("form.cancelled"), reply_markup=ReplyKeyboardRemove())
    await bot.send_message(chat_id, t("menu.title"), reply_markup=main_menu())
