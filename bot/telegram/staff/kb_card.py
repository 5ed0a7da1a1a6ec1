"""Related knowledge-base articles on the ticket card: the lines, the buttons, their data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from bot.services.desk import CardData
from bot.services.kb_desk import KnowledgeDesk, RelatedArticle
from bot.telegram.callbacks import Name, RowId
from bot.telegram.text_limits import shorten

if TYPE_CHECKING:
    from bot.telegram.staff.card import CardStyle

RELATED_KEY = "kb_articles"
BUTTON_TITLE_LENGTH = 48
LINE_TITLE_LENGTH = 120


class KbArticleCallback(CallbackData, prefix="ka"):
    """Send this entry to the ticket's customer ("ka:<ticket>:<entry>", at most 55 bytes)."""

    ticket_id: RowId
    entry: Name


def related_of(data: CardData) -> list[RelatedArticle]:
    articles = data.extra.get(RELATED_KEY)
    return list(articles) if isinstance(articles, list) else []


def related_text(data: CardData, style: CardStyle) -> str:
    """The "Related articles" block of the card, or "" when there are none."""
    articles = related_of(data)
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
    assert ticket_id is not None
    return [
        [
            InlineKeyboardButton(
                text=style.plain(
                    "kb.card.send_button", title=shorten(article.title, BUTTON_TITLE_LENGTH)
                ),
                callback_data=KbArticleCallback(ticket_id=ticket_id, entry=article.entry_id).pack(),
            )
        ]
        for article in related_of(data)
    ]


async def attach_related(data: CardData, knowledge: KnowledgeDesk | None) -> None:
    """Put the ticket's related articles on the card data (searched on the first card only)."""
    if knowledge is not None:
        data.extra[RELATED_KEY] = await knowledge.related(data.ticket, data.customer)
