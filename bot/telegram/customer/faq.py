"""`/faq`: browse the knowledge base by topic."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.knowledge import KnowledgeService
from bot.telegram.callbacks import FaqCallback
from bot.telegram.customer.knowledge import article_text
from bot.telegram.filters import MaybeCommand
from bot.telegram.i18n import current_locale, t, t_plain
from bot.telegram.text_limits import shorten
from knowledge_base import Entry

PAGE_SIZE = 6
LABEL_LENGTH = 60


def tag_label(tag: str) -> str:
    """A topic's name from the catalogue; tags added in data files later show as written."""
    key = f"faq.tag.{tag}"
    label = t_plain(key)
    return tag.replace("_", " ").capitalize() if label == key else label


def _tags_keyboard(knowledge: KnowledgeService) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for tag in knowledge.base.tags(current_locale()):
        builder.button(text=tag_label(tag), callback_data=FaqCallback(action="tag", tag=tag))
    builder.adjust(2)
    return builder.as_markup()


def _entries(knowledge: KnowledgeService, tag: str) -> list[Entry]:
    return [e for e in knowledge.base.entries(current_locale()) if tag in e.tags]


def _tag_keyboard(entries: list[Entry], tag: str, page: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for entry in entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        builder.button(
            text=shorten(entry.questions[0], LABEL_LENGTH),
            callback_data=FaqCallback(action="entry", tag=tag, entry=entry.id, page=page),
        )
    builder.adjust(1)
    navigation = InlineKeyboardBuilder()
    if page > 0:
        navigation.button(
            text=t("faq.prev"), callback_data=FaqCallback(action="tag", tag=tag, page=page - 1)
        )
    if (page + 1) * PAGE_SIZE < len(entries):
        navigation.button(
            text=t("faq.next"), callback_data=FaqCallback(action="tag", tag=tag, page=page + 1)
        )
    navigation.button(text=t("faq.all_topics"), callback_data=FaqCallback(action="tags"))
    builder.attach(navigation)
    return builder.as_markup()


async def faq_command(message: Message, knowledge: KnowledgeService) -> None:
    await message.answer(t("faq.title"), reply_markup=_tags_keyboard(knowledge))


async def faq_topics(query: CallbackQuery, knowledge: KnowledgeService) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.answer(t("faq.title"), reply_markup=_tags_keyboard(knowledge))


async def faq_tag(
    query: CallbackQuery, callback_data: FaqCallback, knowledge: KnowledgeService
) -> None:
    entries = _entries(knowledge, callback_data.tag)
    if not entries:
        await query.answer(t("kb.gone"), show_alert=True)
        return
    await query.answer()
    pages = -(-len(entries) // PAGE_SIZE)
    page = min(max(callback_data.page, 0), pages - 1)
    if query.message is not None:
        await query.message.answer(
            t("faq.topic", topic=tag_label(callback_data.tag), page=page + 1, pages=pages),
            reply_markup=_tag_keyboard(entries, callback_data.tag, page),
        )


async def faq_entry(
    query: CallbackQuery, callback_data: FaqCallback, knowledge: KnowledgeService
) -> None:
    entry = knowledge.entry(callback_data.entry, current_locale())
    if entry is None:
        await query.answer(t("kb.gone"), show_alert=True)
        return
    await query.answer()
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t_plain("faq.back_to_topic", topic=tag_label(callback_data.tag)),
        callback_data=FaqCallback(action="tag", tag=callback_data.tag, page=callback_data.page),
    )
    if query.message is not None:
        await query.message.answer(article_text(entry), reply_markup=builder.as_markup())


def build_router() -> Router:
    router = Router(name="customer_faq")
    router.message.filter(MaybeCommand())  # its message handler is a command
    router.message.register(faq_command, Command("faq"))
    router.callback_query.register(faq_topics, FaqCallback.filter(F.action == "tags"))
    router.callback_query.register(faq_tag, FaqCallback.filter(F.action == "tag"))
    router.callback_query.register(faq_entry, FaqCallback.filter(F.action == "entry"))
    return router
