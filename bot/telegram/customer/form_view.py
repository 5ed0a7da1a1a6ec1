"""How each kind of form step is asked and how the summary is shown."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.form import FormSchema, Step, StepKind
from bot.locales.catalog import Markup
from bot.telegram.callbacks import FormCallback
from bot.telegram.formatting import iso_date, local_date
from bot.telegram.i18n import current_locale, t, t_count, t_plain
from bot.telegram.text_limits import TEXT_LIMIT, fit_escaped, utf16_len


def _nav_row(step: Step, *, first: bool) -> list[InlineKeyboardButton]:
    row = []
    if not first:
        row.append(
            InlineKeyboardButton(
                text=t("form.button.back"),
                callback_data=FormCallback(action="back", step=step.id).pack(),
            )
        )
    row.append(
        InlineKeyboardButton(
            text=t("form.button.cancel"),
            callback_data=FormCallback(action="cancel", step=step.id).pack(),
        )
    )
    return row


def step_prompt(step: Step) -> str:
    """A step's question: the form file's own wording, else the catalogue's for that step."""
    locale = current_locale()
    custom = step.prompt(locale)
    if custom:
        return str(Markup(_escape(custom)))
    return t(f"form.prompt.{step.id}")


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


StepMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup


class StepKeyboards:
    """A step's buttons depend only on the step, the language and the file count, so each
    variant is built once per form (building keyboards is a large part of a form step)."""

    def __init__(self, schema: FormSchema) -> None:
        self._schema = schema
        self._built: dict[tuple[str, str, bool, int], StepMarkup] = {}

    def for_step(self, step: Step, answers: Mapping[str, Any], *, first: bool) -> StepMarkup:
        files = len(answers.get(step.id) or []) if step.kind is StepKind.FILES else 0
        key = (step.id, current_locale(), first, files)
        markup = self._built.get(key)
        if markup is None:
            markup = self._built[key] = build_step_keyboard(self._schema, step, first, files)
        return markup


def build_step_keyboard(schema: FormSchema, step: Step, first: bool, files: int) -> StepMarkup:
    locale = current_locale()
    if step.kind is StepKind.CONTACT:
        return ReplyKeyboardMarkup(
            keyboard=[
                [KeyboardButton(text=t("form.button.share_phone"), request_contact=True)],
                [KeyboardButton(text=t("form.button.skip"))],
                [
                    KeyboardButton(text=t("form.button.back")),
                    KeyboardButton(text=t("form.button.cancel")),
                ],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    builder = InlineKeyboardBuilder()
    if step.kind is StepKind.CATEGORY:
        for category in schema.categories:
            builder.button(
                text=category.title(locale),
                callback_data=FormCallback(action="pick", step=step.id, value=category.id),
            )
        builder.adjust(2)
    elif step.kind is StepKind.CHOICE:
        for option in step.options:
            builder.button(
                text=option.title(locale),
                callback_data=FormCallback(action="pick", step=step.id, value=option.id),
            )
        builder.adjust(2)
    elif step.kind is StepKind.DATE:
        for action in ("today", "yesterday", "other"):
            builder.button(
                text=t(f"form.button.{action}"),
                callback_data=FormCallback(action=action, step=step.id),
            )
        builder.adjust(3)
    elif step.kind is StepKind.FILES:
        if files:
            builder.button(
                text=t_plain("form.button.done", count=files),
                callback_data=FormCallback(action="done", step=step.id),
            )
        builder.button(
            text=t("form.button.skip"), callback_data=FormCallback(action="skip", step=step.id)
        )
        builder.adjust(2)
    elif step.kind is StepKind.TEXT and not step.required:
        builder.button(
            text=t("form.button.skip"), callback_data=FormCallback(action="skip", step=step.id)
        )
    builder.row(*_nav_row(step, first=first))
    return builder.as_markup()


def answer_text(schema: FormSchema, step: Step, answers: Mapping[str, Any]) -> str:
    """One answer as the summary shows it (escaped)."""
    locale = current_locale()
    value = answers.get(step.id)
    if step.kind is StepKind.CATEGORY:
        category = schema.category(value)
        return _escape(category.title(locale)) if category else t("form.summary.empty")
    if step.kind is StepKind.CHOICE:
        option = next((o for o in step.options if o.id == value), None)
        return _escape(option.title(locale)) if option else t("form.summary.empty")
    if step.kind is StepKind.DATE:
        day = iso_date(value)
        return local_date(day) if day else t("form.summary.empty")
    if step.kind is StepKind.FILES:
        count = len(value or [])
        return t_count("count.files", count) if count else t("form.summary.no_files")
    if step.kind is StepKind.CONTACT:
        return _escape(value) if value else t("form.summary.no_phone")
    return _escape(str(value)) if value else t("form.summary.empty")


FREE_TEXT_STEPS = (StepKind.TEXT, StepKind.CONTACT)


def summary_text(schema: FormSchema, answers: Mapping[str, Any]) -> str:
    """The answers for checking, within one message: typed answers too long to fit together
    are shown shortened (the stored answers stay whole)."""
    locale = current_locale()
    steps = schema.sequence(answers)
    typed = [s for s in steps if s.kind in FREE_TEXT_STEPS and answers.get(s.id)]
    values = {step.id: answer_text(schema, step, answers) for step in steps}

    def render(shown: Mapping[str, str]) -> str:
        lines = [t("form.summary.title"), ""]
        lines += [
            t("form.summary.line", title=step.title(locale), value=Markup(shown[step.id]))
            for step in steps
        ]
        lines += ["", t("form.summary.hint")]
        return "\n".join(lines)

    text = render(values)
    if utf16_len(text) <= TEXT_LIMIT:
        return text
    frame = utf16_len(render({**values, **{step.id: "" for step in typed}}))
    fitted = fit_escaped([str(answers[step.id]) for step in typed], TEXT_LIMIT - frame)
    return render({**values, **{step.id: value for step, value in zip(typed, fitted, strict=True)}})


def summary_keyboard(schema: FormSchema, answers: Mapping[str, Any]) -> InlineKeyboardMarkup:
    locale = current_locale()
    builder = InlineKeyboardBuilder()
    for step in schema.sequence(answers):
        builder.button(
            text=t_plain("form.button.edit", title=step.title(locale)),
            callback_data=FormCallback(action="edit", step=step.id),
        )
    builder.adjust(2)
    builder.row(
        InlineKeyboardButton(
            text=t("form.button.submit"), callback_data=FormCallback(action="submit").pack()
        ),
        InlineKeyboardButton(
            text=t("form.button.cancel"), callback_data=FormCallback(action="cancel").pack()
        ),
    )
    return builder.as_markup()
