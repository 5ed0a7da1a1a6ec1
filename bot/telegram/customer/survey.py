"""The satisfaction survey in the customer's chat: rating buttons, comment, reopen question."""

from __future__ import annotations

from typing import Literal, Self

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import model_validator

from bot.services.surveys import (
    SCORES,
    SURVEY_PREFIX,
    RatingOutcome,
    RatingResult,
    ReopenOutcome,
    SurveyService,
)
from bot.telegram.callbacks import RowId
from bot.telegram.filters import PlainText
from bot.telegram.i18n import t
from storage.models import Customer


class SurveyCallback(CallbackData, prefix=SURVEY_PREFIX):
    action: Literal["rate", "skip", "reopen", "keep"]
    ticket_id: RowId
    score: int = 0

    @model_validator(mode="after")
    def _rating_in_range(self) -> Self:
        if self.action == "rate" and self.score not in SCORES:
            raise ValueError(f"a rating is one of {SCORES}, got {self.score}")
        return self


class SurveyFlow(StatesGroup):
    comment = State()


def rating_keyboard(ticket_id: int, selected: int | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for score in SCORES:
        label = f"✅ {score}" if score == selected else str(score)
        builder.button(
            text=label,
            callback_data=SurveyCallback(action="rate", ticket_id=ticket_id, score=score),
        )
    builder.adjust(len(SCORES))
    return builder.as_markup()


def _after_rating_keyboard(ticket_id: int, low: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if low:
        builder.button(
            text=t("survey.button.reopen"),
            callback_data=SurveyCallback(action="reopen", ticket_id=ticket_id),
        )
        builder.button(
            text=t("survey.button.keep_closed"),
            callback_data=SurveyCallback(action="keep", ticket_id=ticket_id),
        )
    else:
        builder.button(
            text=t("survey.button.skip"),
            callback_data=SurveyCallback(action="skip", ticket_id=ticket_id),
        )
    builder.adjust(1)
    return builder.as_markup()


_REFUSALS = {
    RatingOutcome.NOT_FOUND: "survey.not_found",
    RatingOutcome.NOT_RATABLE: "survey.not_ratable",
    RatingOutcome.TOO_LATE: "survey.too_late",
}


async def rate(
    query: CallbackQuery,
    callback_data: SurveyCallback,
    state: FSMContext,
    surveys: SurveyService,
    customer: Customer,
) -> None:
    assert customer.id is not None
    result = await surveys.rate(
        customer_id=customer.id, ticket_id=callback_data.ticket_id, score=callback_data.score
    )
    refusal = _REFUSALS.get(result.outcome)
    if refusal is not None:
        await query.answer(t(refusal), show_alert=True)
        return
    await query.answer(t("survey.saved"))
    if result.outcome is RatingOutcome.UNCHANGED:
        return
    await _show_rating(query, callback_data.ticket_id, result)
    await state.set_state(SurveyFlow.comment)
    await state.update_data(survey_ticket_id=callback_data.ticket_id)
    if query.message is not None:
        if result.low:
            key = "survey.low"
        else:
            key = "survey.closed_comment_prompt" if result.closed else "survey.comment_prompt"
        await query.message.answer(
            t(key, number=result.number),
            reply_markup=_after_rating_keyboard(callback_data.ticket_id, result.low),
        )


async def _show_rating(query: CallbackQuery, ticket_id: int, result: RatingResult) -> None:
    message = query.message
    if not isinstance(message, Message):
        return
    text = t("survey.rated", number=result.number, score=result.score)
    await message.edit_text(text, reply_markup=rating_keyboard(ticket_id, result.score))


async def skip(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(t("survey.thanks"))


async def decide(
    query: CallbackQuery,
    callback_data: SurveyCallback,
    state: FSMContext,
    surveys: SurveyService,
    customer: Customer,
) -> None:
    assert customer.id is not None
    result = await surveys.decide(
        customer_id=customer.id,
        ticket_id=callback_data.ticket_id,
        reopen=callback_data.action == "reopen",
    )
    await state.clear()
    if result.outcome is ReopenOutcome.NOT_FOUND:
        await query.answer(t("survey.not_found"), show_alert=True)
        return
    await query.answer()
    key = {
        ReopenOutcome.REOPENED: "survey.reopened",
        ReopenOutcome.CLOSED: "survey.closed",
        ReopenOutcome.UNCHANGED: "survey.decision_unchanged",
    }[result.outcome]
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(t(key, number=result.number))


async def comment(
    message: Message, state: FSMContext, surveys: SurveyService, customer: Customer
) -> None:
    data = await state.get_data()
    await state.clear()
    assert customer.id is not None
    stored = await surveys.comment(
        customer_id=customer.id,
        ticket_id=int(data.get("survey_ticket_id", 0)),
        text=message.text or "",
    )
    await message.answer(t("survey.comment_thanks" if stored else "survey.thanks"))


def build_router() -> Router:
    router = Router(name="customer_survey")
    router.callback_query.register(rate, SurveyCallback.filter(F.action == "rate"))
    router.callback_query.register(skip, SurveyCallback.filter(F.action == "skip"))
    router.callback_query.register(decide, SurveyCallback.filter(F.action.in_({"reopen", "keep"})))
    router.message.register(comment, StateFilter(SurveyFlow.comment), PlainText())
    return router
