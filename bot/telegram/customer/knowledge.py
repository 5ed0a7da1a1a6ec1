"""Questions answered from the knowledge base, with "Did this help?" and a way to a person."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.form import validate_text
from bot.locales.catalog import Markup
from bot.services.knowledge import Answered, KnowledgeService
from bot.services.tickets import TicketService
from bot.telegram.callbacks import KbCallback, MenuCallback
from bot.telegram.customer.attachments import incoming
from bot.telegram.customer.form_flow import FormEngine, start_form
from bot.telegram.customer.states import QuestionFlow
from bot.telegram.filters import PlainText
from bot.telegram.i18n import current_locale, t
from bot.telegram.text_limits import shorten
from knowledge_base import Entry
from storage.models import Customer

SUGGESTION_LABEL_LENGTH = 60
DESCRIPTION_STEP = "description"


def _feedback_keyboard(query_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("kb.button.yes"), callback_data=KbCallback(action="yes", query=query_id))
    builder.button(text=t("kb.button.no"), callback_data=KbCallback(action="no", query=query_id))
    builder.adjust(2)
    return builder.as_markup()


def escalation_keyboard(query_id: int) -> InlineKeyboardMarkup:
    """A complaint (with the question already filled in as its description) or a person."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("menu.complaint"), callback_data=KbCallback(action="complaint", query=query_id)
    )
    builder.button(text=t("kb.button.person"), callback_data=MenuCallback(action="person"))
    builder.adjust(1)
    return builder.as_markup()


def article_text(entry: Entry) -> str:
    """The article as sent; its answer is Telegram HTML the loader has already validated."""
    return t("kb.article", answer=Markup(entry.answer.strip()))


async def answer_question(
    message: Message, text: str, knowledge: KnowledgeService, customer: Customer
) -> None:
    """Answer, suggest or admit there is no ready answer; every question is stored."""
    answered = await knowledge.ask(customer_id=customer.id, text=text, locale=current_locale())
    await reply_to_question(message, answered)


async def asked_question(
    message: Message,
    state: FSMContext,
    tickets: TicketService,
    knowledge: KnowledgeService,
    customer: Customer,
    event_update: Update | None = None,
) -> None:
    """The message after "Ask a question": the knowledge base first, even with a ticket open;
    only a question it cannot answer goes on to the open ticket, where an agent sees it."""
    await state.clear()
    assert customer.id is not None
    received = incoming(message, event_update.update_id if event_update else None)
    text = (message.text or "").strip()
    answered = await knowledge.ask(customer_id=customer.id, text=text, locale=current_locale())
    if answered.decision.kind == "none":
        target, _ = await tickets.place_customer_message(customer_id=customer.id, message=received)
        if target is not None:
            await message.answer(t("question.added_to_ticket", number=target.number))
            return
    else:
        await tickets.store_unplaced(customer_id=customer.id, message=received)
    await reply_to_question(message, answered)


async def reply_to_question(message: Message, answered: Answered) -> None:
    decision = answered.decision
    if decision.kind == "answer" and decision.best is not None:
        await message.answer(
            article_text(decision.best.entry), reply_markup=_feedback_keyboard(answered.query_id)
        )
        return
    if decision.kind == "suggest":
        builder = InlineKeyboardBuilder()
        for match in decision.matches:
            builder.button(
                text=shorten(match.entry.questions[0], SUGGESTION_LABEL_LENGTH),
                callback_data=KbCallback(
                    action="show", query=answered.query_id, entry=match.entry_id
                ),
            )
        builder.button(
            text=t("kb.button.none_of_these"),
            callback_data=KbCallback(action="no", query=answered.query_id),
        )
        builder.adjust(1)
        await message.answer(t("kb.suggest"), reply_markup=builder.as_markup())
        return
    await message.answer(t("kb.none"), reply_markup=escalation_keyboard(answered.query_id))


async def show_suggestion(
    query: CallbackQuery,
    callback_data: KbCallback,
    knowledge: KnowledgeService,
    customer: Customer,
) -> None:
    entry = knowledge.entry(callback_data.entry, current_locale())
    if entry is None or customer.id is None:
        await query.answer(t("kb.gone"), show_alert=True)
        return
    await knowledge.record_choice(
        query_id=callback_data.query, customer_id=customer.id, entry_id=entry.id
    )
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            article_text(entry), reply_markup=_feedback_keyboard(callback_data.query)
        )


async def feedback(
    query: CallbackQuery,
    callback_data: KbCallback,
    bot: Bot,
    knowledge: KnowledgeService,
    customer: Customer,
) -> None:
    assert customer.id is not None
    helpful = callback_data.action == "yes"
    stored = await knowledge.record_feedback(
        query_id=callback_data.query, customer_id=customer.id, helpful=helpful
    )
    if stored is None:
        await query.answer(t("kb.gone"), show_alert=True)
        return
    await query.answer()
    if query.message is not None:
        await bot.edit_message_reply_markup(
            chat_id=query.message.chat.id, message_id=query.message.message_id, reply_markup=None
        )
    if helpful:
        await bot.send_message(customer.telegram_id, t("kb.glad"))
    else:
        await bot.send_message(
            customer.telegram_id,
            t("kb.sorry"),
            reply_markup=escalation_keyboard(callback_data.query),
        )


async def complaint_from_question(
    query: CallbackQuery,
    callback_data: KbCallback,
    bot: Bot,
    state: FSMContext,
    form_engine: FormEngine,
    knowledge: KnowledgeService,
    customer: Customer,
) -> None:
    """Start the complaint form with the unanswered question as its description."""
    assert customer.id is not None
    await query.answer()
    question = await knowledge.question_text(query_id=callback_data.query, customer_id=customer.id)
    prefill: dict[str, str] = {}
    step = next((s for s in form_engine.schema.steps if s.id == DESCRIPTION_STEP), None)
    if question and step is not None and validate_text(step, question).ok:
        prefill[DESCRIPTION_STEP] = question.strip()
    await start_form(
        bot,
        customer.telegram_id,
        form_engine,
        state,
        prefill=prefill,
        kb_query=callback_data.query if question else None,
    )


def build_router() -> Router:
    router = Router(name="customer_knowledge")
    router.callback_query.register(show_suggestion, KbCallback.filter(F.action == "show"))
    router.callback_query.register(
        complaint_from_question, KbCallback.filter(F.action == "complaint")
    )
    router.callback_query.register(feedback, KbCallback.filter(F.action.in_({"yes", "no"})))
    router.message.register(asked_question, StateFilter(QuestionFlow.asking), PlainText())
    return router
