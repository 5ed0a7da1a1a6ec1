"""Related knowledge-base articles on the ticket card: the lines, the buttons, their data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from bot.services.desk import ArticleRef, CardData
from bot.services.kb_desk import KnowledgeDesk
from bot.telegram.callbacks import Name, RowId
from bot.telegram.text_limits import shorten

if TYPE_CHECKING:
    from bot.telegram.staff.card import CardStyle

BUTTON_TITLE_LENGTH = 48
LINE_TITLE_LENGTH = 120


class KbArticleCallback(CallbackData, prefix="ka"):
    """Send this entry to the ticket's customer ("ka:<ticket>:<entry>", at most 55 bytes)."""

    ticket_id: RowId
    entry: Name


def related_text(data: CardData, style: CardStyle) -> str:
    """The "Related articles" block of the card, or "" when there are none."""
    articles = data.related.articles
    if not articles:
        return ""
    lines = [style.text("kb.card.related")]
    lines += [
        style.text("kb.card.article_line", index=index, title=shorten(a.title, LINE_TITLE_LENGTH))
        for index, a in enumerate(articles, start=1)
    ]
    return "\n".join(lines)


def related_rows(data: CardData, style: CardStyle) -> list[list[InlineKeyboardButton]]:
    ticket_id = data.ticket.id
    return [
        [
            InlineKeyboardButton(
                text=style.plain(
                    "kb.card.send_button", title=shorten(article.title, BUTTON_TITLE_LENGTH)
                ),
                callback_data=KbArticleCallback(ticket_id=ticket_id, entry=article.entry_id).pack(),
            )
        ]
        for article in data.related.articles
    ]


async def related_articles(
    data: CardData, knowledge: KnowledgeDesk | None
) -> tuple[ArticleRef, ...]:
    """The ticket's related articles for its card (searched on the first card only)."""
    if knowledge is None:
        return ()
    found = await knowledge.related(data.ticket, data.customer.locale)
    return tuple(ArticleRef(article.entry_id, article.title) for article in found)
