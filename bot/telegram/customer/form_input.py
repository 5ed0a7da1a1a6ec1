"""What the customer types or sends while the form asks a step, or while it shows the summary."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message, ReplyKeyboardRemove

from bot.domain.form import (
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
from bot.services.intake import FileRef
from bot.telegram.customer.attachments import files_of
from bot.telegram.customer.form_flow import (
    FormEngine,
    accept,
    answers_of,
    ask,
    cancel_form,
    go_to,
    show_summary,
)
from bot.telegram.i18n import current_locale, t, t_count


async def summary_input(
    message: Message, bot: Bot, state: FSMContext, form_engine: FormEngine
) -> None:
    answers = answers_of(await state.get_data())
    await message.answer(t("form.use_summary_buttons"))
    await show_summary(bot, message.chat.id, form_engine, state, answers)


async def step_input(
    message: Message, bot: Bot, state: FSMContext, form_engine: FormEngine
) -> None:
    data = await state.get_data()
    answers = answers_of(data)
    step = form_engine.schema.step(str(data.get("step")), answers)
    chat_id = message.chat.id
    if step.kind is StepKind.CONTACT and await _contact_navigation(
        message, bot, form_engine, state, step, answers
    ):
        return
    verdict = _read_input(message, step, form_engine, answers)
    if verdict is None:
        await ask(
            bot, chat_id, form_engine, step, answers, error=t(f"form.wrong_kind.{step.kind.value}")
        )
        return
    if not verdict.ok:
        await ask(bot, chat_id, form_engine, step, answers, error=_problem_text(step, verdict))
        return
    if step.kind is StepKind.FILES:
        await _add_files(message, bot, form_engine, state, step, answers, verdict.value)
        return
    if step.kind is StepKind.CONTACT:
        await message.answer(t("form.contact_received"), reply_markup=ReplyKeyboardRemove())
    await accept(bot, chat_id, form_engine, state, step, verdict.value)


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
        await accept(bot, message.chat.id, engine, state, step, None)
        return True
    if text == t("form.button.cancel"):
        await cancel_form(bot, message.chat.id, state)
        return True
    if text == t("form.button.back"):
        await message.answer(t("form.going_back"), reply_markup=ReplyKeyboardRemove())
        previous = engine.schema.previous_step(step.id, answers)
        if previous is not None:
            await go_to(bot, message.chat.id, engine, state, previous, answers, editing=False)
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
