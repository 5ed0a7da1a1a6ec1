"""The generic form engine: one set of handlers interprets whatever form schema it is given."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove

from bot.domain.clock import Clock
from bot.domain.form import (
    FormSchema,
    Problem,
    Step,
    StepKind,
    Verdict,
    match_option_by_title,
    validate_date,
    validate_option,
    validate_phone,
    validate_text,
)
from bot.domain.tickets import Priority
from bot.services.intake import ComplaintForm, FileRef
from bot.services.knowledge import KnowledgeService
from bot.services.tickets import TicketService
from bot.telegram.callbacks import FormCallback, MenuCallback
from bot.telegram.customer.attachments import files_of
from bot.telegram.customer.form_view import (
    StepKeyboards,
    step_prompt,
    summary_keyboard,
    summary_text,
)
from bot.telegram.customer.states import ComplaintFlow
from bot.telegram.formatting import iso_date, local_datetime
from bot.telegram.i18n import current_locale, t, t_count
from bot.telegram.keyboards import after_registration, main_menu
from storage.models import Customer, Ticket

FORM_STATES = StateFilter(ComplaintFlow.filling, ComplaintFlow.summary)


class FormEngine:
    """Everything the handlers need to run a form: its schema, the clock and the time zone."""

    def __init__(self, schema: FormSchema, clock: Clock, zone: ZoneInfo) -> None:
        self.schema = schema
        self.clock = clock
        self.zone = zone
        self.keyboards = StepKeyboards(schema)

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()


def _answers(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data.get("answers") or {})


async def _ask(
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


async def _show_summary(
    bot: Bot, chat_id: int, engine: FormEngine, state: FSMContext, answers: dict[str, Any]
) -> None:
    await state.set_state(ComplaintFlow.summary)
    await state.update_data(step=None, editing=False, answers=answers)
    await bot.send_message(
        chat_id,
        summary_text(engine.schema, answers),
        reply_markup=summary_keyboard(engine.schema, answers),
    )


async def _go_to(
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
    await _ask(bot, chat_id, engine, step, answers)


async def _accept(
    bot: Bot, chat_id: int, engine: FormEngine, state: FSMContext, step: Step, value: Any
) -> None:
    """Record an answer and move to the next step, or back to the summary when editing."""
    data = await state.get_data()
    answers = _answers(data)
    answers[step.id] = value
    answers = engine.schema.prune(answers)
    if data.get("editing"):
        missing = engine.schema.first_unanswered(answers)
        if missing is None:
            await _show_summary(bot, chat_id, engine, state, answers)
        else:
            await _go_to(bot, chat_id, engine, state, missing, answers, editing=True)
        return
    following = engine.schema.next_unanswered(step.id, answers)
    if following is None:
        await _show_summary(bot, chat_id, engine, state, answers)
    else:
        await _go_to(bot, chat_id, engine, state, following, answers, editing=False)


# What the numbers of a problem count ("at least 10 characters", "up to 10 files").
_COUNTED = {
    Problem.TOO_SHORT: "count.characters",
    Problem.TOO_LONG: "count.characters",
    Problem.TOO_MANY_FILES: "count.files",
}


def _problem_text(step: Step, verdict: Verdict) -> str:
    if verdict.problem is Problem.PATTERN:
        hint = step.hint(current_locale())
        if hint:
            return t("form.problem.pattern_with_hint", hint=hint)
    assert verdict.problem is not None
    params = dict(verdict.params)
    noun = _COUNTED.get(verdict.problem)
    if noun is not None:
        params = {name: t_count(noun, value) for name, value in params.items()}
    return t(f"form.problem.{verdict.problem.value}", **params)


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
    await _go_to(bot, chat_id, engine, state, engine.schema.first_step(), answers, editing=False)


async def complaint_command(
    message: Message, bot: Bot, state: FSMContext, form_engine: FormEngine
) -> None:
    await start_form(bot, message.chat.id, form_engine, state)


async def complaint_button(
    query: CallbackQuery, bot: Bot, state: FSMContext, form_engine: FormEngine
) -> None:
    await query.answer()
    await start_form(bot, query.from_user.id, form_engine, state)


async def _cancel(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.clear()
    await bot.send_message(chat_id, t("form.cancelled"), reply_markup=ReplyKeyboardRemove())
    await bot.send_message(chat_id, t("menu.title"), reply_markup=main_menu())


async def cancel_command(message: Message, bot: Bot, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(t("form.nothing_to_cancel"), reply_markup=main_menu())
        return
    await _cancel(bot, message.chat.id, state)


async def summary_input(
    message: Message, bot: Bot, state: FSMContext, form_engine: FormEngine
) -> None:
    answers = _answers(await state.get_data())
    await message.answer(t("form.use_summary_buttons"))
    await _show_summary(bot, message.chat.id, form_engine, state, answers)


async def step_input(
    message: Message, bot: Bot, state: FSMContext, form_engine: FormEngine
) -> None:
    data = await state.get_data()
    answers = _answers(data)
    step = form_engine.schema.step(str(data.get("step")), answers)
    chat_id = message.chat.id
    if step.kind is StepKind.CONTACT and await _contact_navigation(
        message, bot, form_engine, state, step, answers
    ):
        return
    verdict = _read_input(message, step, form_engine, answers)
    if verdict is None:
        await _ask(
            bot, chat_id, form_engine, step, answers, error=t(f"form.wrong_kind.{step.kind.value}")
        )
        return
    if not verdict.ok:
        await _ask(bot, chat_id, form_engine, step, answers, error=_problem_text(step, verdict))
        return
    if step.kind is StepKind.FILES:
        await _add_files(message, bot, form_engine, state, step, answers, verdict.value)
        return
    if step.kind is StepKind.CONTACT:
        await message.answer(t("form.contact_received"), reply_markup=ReplyKeyboardRemove())
    await _accept(bot, chat_id, form_engine, state, step, verdict.value)


def _read_input(
    message: Message, step: Step, engine: FormEngine, answers: dict[str, Any]
) -> Verdict | None:
    """Validate a typed or sent answer; None means the message is of the wrong kind."""
    text = message.text
    if step.kind is StepKind.TEXT:
        return validate_text(step, text) if text is not None else None
    if step.kind is StepKind.DATE:
        return validate_date(text, today=engine.today()) if text is not None else None
    if step.kind in (StepKind.CATEGORY, StepKind.CHOICE):
        if text is None:
            return None
        options = engine.schema.categories if step.kind is StepKind.CATEGORY else step.options
        chosen = match_option_by_title(options, text)
        return validate_option(options, chosen) if chosen else None
    if step.kind is StepKind.FILES:
        files = files_of(message)
        if not files or files[0].kind == "sticker":
            return None
        already = len(answers.get(step.id) or [])
        if already + len(files) > step.max_files:
            return Verdict(problem=Problem.TOO_MANY_FILES, params={"max": step.max_files})
        return Verdict(value=files)
    if step.kind is StepKind.CONTACT:
        if message.contact is not None:
            if message.contact.user_id not in (
                None,
                message.from_user.id if message.from_user else None,
            ):
                return Verdict(problem=Problem.PHONE_INVALID)
            return Verdict(value=message.contact.phone_number)
        return validate_phone(text) if text is not None else None
    return None


async def _contact_navigation(
    message: Message,
    bot: Bot,
    engine: FormEngine,
    state: FSMContext,
    step: Step,
    answers: dict[str, Any],
) -> bool:
    """The contact step uses a reply keyboard, so Skip / Back / Cancel arrive as text."""
    text = (message.text or "").strip()
    if text == t("form.button.skip"):
        await message.answer(t("form.contact_skipped"), reply_markup=ReplyKeyboardRemove())
        await _accept(bot, message.chat.id, engine, state, step, None)
        return True
    if text == t("form.button.cancel"):
        await _cancel(bot, message.chat.id, state)
        return True
    if text == t("form.button.back"):
        await message.answer(t("form.going_back"), reply_markup=ReplyKeyboardRemove())
        previous = engine.schema.previous_step(step.id, answers)
        if previous is not None:
            await _go_to(bot, message.chat.id, engine, state, previous, answers, editing=False)
        return True
    return False


async def _add_files(
    message: Message,
    bot: Bot,
    engine: FormEngine,
    state: FSMContext,
    step: Step,
    answers: dict[str, Any],
    files: list[FileRef],
) -> None:
    """Keep the files; one acknowledgement per album, whose Done count follows the album."""
    data = await state.get_data()
    stored = list(answers.get(step.id) or [])
    stored.extend(f.to_dict() for f in files)
    answers[step.id] = stored
    keyboard = engine.keyboards.for_step(step, answers, first=False)
    group = message.media_group_id
    acknowledged = data.get("album_ack") or {}
    if group is not None and group == acknowledged.get("group"):
        await state.update_data(answers=answers)
        assert isinstance(keyboard, InlineKeyboardMarkup)
        await bot.edit_message_reply_markup(
            chat_id=message.chat.id,
            message_id=int(acknowledged["message_id"]),
            reply_markup=keyboard,
        )
        return
    sent = await bot.send_message(message.chat.id, t("form.files_received"), reply_markup=keyboard)
    await state.update_data(
        answers=answers, album_ack={"group": group, "message_id": sent.message_id}
    )


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
    answers = _answers(data)
    chat_id = query.from_user.id
    current = data.get("step")
    action = callback_data.action
    in_summary = await state.get_state() == ComplaintFlow.summary.state
    if action == "cancel":
        await query.answer()
        await _cancel(bot, chat_id, state)
        return
    if action in ("edit", "submit"):
        if not in_summary:
            await query.answer(t("form.button_outdated"), show_alert=True)
            return
        await query.answer()
        if action == "submit":
            ticket = await _submit(
                bot, chat_id, form_engine, state, tickets, customer, answers, data.get("form_id")
            )
            if ticket is not None and data.get("kb_query"):
                await knowledge.link_ticket(
                    query_id=int(data["kb_query"]), customer_id=customer.id, ticket=ticket
                )
        else:
            step = form_engine.schema.step(callback_data.step, answers)
            await _go_to(bot, chat_id, form_engine, state, step, answers, editing=True)
        return
    if in_summary or callback_data.step != current:
        await query.answer(t("form.button_outdated"), show_alert=True)
        return
    await query.answer()
    step = form_engine.schema.step(callback_data.step, answers)
    if action == "back":
        previous = form_engine.schema.previous_step(step.id, answers)
        if previous is not None:
            await _go_to(bot, chat_id, form_engine, state, previous, answers, editing=False)
        return
    if action == "pick":
        options = form_engine.schema.categories if step.kind is StepKind.CATEGORY else step.options
        verdict = validate_option(options, callback_data.value)
        if verdict.ok:
            await _accept(bot, chat_id, form_engine, state, step, verdict.value)
        return
    if action in ("today", "yesterday"):
        day = form_engine.today() - timedelta(days=1 if action == "yesterday" else 0)
        await _accept(bot, chat_id, form_engine, state, step, day.isoformat())
        return
    if action == "other":
        await bot.send_message(
            chat_id, t("form.date_other", example=form_engine.today().strftime("%d.%m.%Y"))
        )
        return
    if action == "done":
        await _accept(bot, chat_id, form_engine, state, step, answers.get(step.id) or [])
        return
    if action == "skip" and not step.required:
        await _accept(
            bot, chat_id, form_engine, state, step, [] if step.kind is StepKind.FILES else None
        )


async def _submit(
    bot: Bot,
    chat_id: int,
    engine: FormEngine,
    state: FSMContext,
    tickets: TicketService,
    customer: Customer,
    answers: dict[str, Any],
    form_id: str | None,
) -> Ticket | None:
    """Register the complaint; None when an answer is still missing (it is asked instead)."""
    schema = engine.schema
    if not schema.is_complete(answers):
        missing = schema.first_unanswered(answers)
        assert missing is not None
        await _go_to(bot, chat_id, engine, state, missing, answers, editing=True)
        return None
    category = schema.category(answers.get("category"))
    main_ids = {"category", "description", "incident_date", "attachments", "contact"}
    form = ComplaintForm(
        category=str(answers.get("category")),
        description=str(answers.get("description") or ""),
        incident_date=iso_date(answers.get("incident_date")),
        fields={k: v for k, v in answers.items() if k not in main_ids},
        files=tuple(FileRef.from_dict(f) for f in answers.get("attachments") or []),
        contact_phone=answers.get("contact"),
        priority=category.priority if category else Priority.NORMAL,
    )
    assert customer.id is not None
    ticket = await tickets.open_complaint(customer_id=customer.id, form=form, form_id=form_id)
    await state.clear()
    assert ticket.id is not None
    await bot.send_message(
        chat_id,
        t(
            "ticket.registered",
            number=ticket.number,
            registered=local_datetime(ticket.created_at, engine.zone),
            due=_due_text(ticket.first_response_due, engine.zone),
        ),
        reply_markup=after_registration(ticket.id),
    )
    return ticket


def _due_text(due: datetime | None, zone: ZoneInfo) -> str:
    return local_datetime(due, zone) if due else "—"


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
