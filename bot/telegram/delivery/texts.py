"""Texts longer than Telegram allows go as several messages."""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.types import InlineKeyboardMarkup, ReplyParameters

from bot.telegram.html_text import split_html
from bot.telegram.text_limits import TEXT_LIMIT

HTML = ParseMode.HTML


async def send_texts(
    bot: Bot,
    chat_id: int,
    thread: int | None,
    html: str,
    *,
    reply: ReplyParameters | None = None,
    buttons: InlineKeyboardMarkup | None = None,
    silent: bool | None = None,
) -> list[int]:
    """One HTML text as one message, or several when it is longer than Telegram allows
    (the reply goes with the first part, the buttons with the last)."""
    parts = split_html(html, TEXT_LIMIT)
    ids: list[int] = []
    for index, part in enumerate(parts):
        message = await bot.send_message(
            chat_id,
            part,
            parse_mode=HTML,
            message_thread_id=thread,
            reply_markup=buttons if index == len(parts) - 1 else None,
            reply_parameters=reply if index == 0 else None,
            disable_notification=silent,
        )
        ids.append(message.message_id)
    return ids
