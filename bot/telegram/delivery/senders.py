"""How each kind of outbox row is sent (a kind's lane is in `storage/outbox_models.py`
`LANES`): one function per kind, from the row's payload to Bot API calls."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    ReplyParameters,
)

from bot.services.analytics.digest import DIGEST
from bot.services.desk.topics import OPEN_TOPIC
from bot.services.outbox import INCIDENT_RESOLVED, INCIDENT_UPDATE, NOTICE, REFRESH_CARD
from bot.services.privacy_topics import DELETE_TOPIC
from bot.telegram.delivery.texts import HTML, send_texts
from bot.telegram.html_text import fits
from bot.telegram.text_limits import CAPTION_LIMIT
from storage.outbox_models import OutboxMessage

MEDIA_GROUP_LIMIT = 10
_INPUT_MEDIA: dict[str, Any] = {
    "photo": InputMediaPhoto,
    "video": InputMediaVideo,
    "document": InputMediaDocument,
    "audio": InputMediaAudio,
}


class TicketThreads(Protocol):
    """What the worker needs from the staff desk to send into a ticket's topic."""

    async def thread_for(self, ticket_id: int) -> int | None:
        """The ticket's topic (created if missing); None when the group has no topics."""
        ...

    async def thread_lost(self, ticket_id: int, thread_id: int | None) -> None:
        """Telegram said the topic is gone: make a new one (with the card)."""
        ...

    async def refresh(self, ticket_id: int) -> None:
        """Re-render the ticket's card and topic name from the stored ticket."""
        ...


class Outlet(Protocol):
    """Where the senders send: the Bot API and the staff desk's topics."""

    bot: Bot
    threads: TicketThreads | None


@dataclass(frozen=True, slots=True)
class Sent:
    message_ids: list[int]


Sender = Callable[[Outlet, OutboxMessage, "int | None"], Awaitable[Sent]]


def _markup(rows: Sequence[Sequence[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton.model_validate(button) for button in row] for row in rows
        ]
    )


def _reply_to(message_id: Any) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=int(message_id), allow_sending_without_reply=True)


def _reply(payload: dict[str, Any]) -> ReplyParameters | None:
    return _reply_to(payload.get("reply_to"))


async def send_text(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    payload = row.payload
    return Sent(
        await send_texts(
            out.bot,
            row.chat_id,
            thread,
            payload["html"],
            reply=_reply(payload),
            buttons=_markup(payload.get("buttons")),
            silent=bool(payload.get("silent")) or None,
        )
    )


async def send_copy(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    payload = row.payload
    caption: str | None = payload.get("caption")
    apart = caption is not None and not fits(caption, CAPTION_LIMIT)
    extra: dict[str, Any] = {}
    if caption is not None:
        extra["caption"] = "" if apart else caption
        extra["parse_mode"] = HTML
    copied = await out.bot.copy_message(
        row.chat_id,
        int(payload["from_chat_id"]),
        int(payload["message_id"]),
        message_thread_id=thread,
        reply_parameters=_reply(payload),
        disable_notification=bool(payload.get("silent")) or None,
        **extra,
    )
    ids = [copied.message_id]
    if apart:
        assert caption is not None
        ids += await send_texts(
            out.bot, row.chat_id, thread, caption, reply=_reply_to(copied.message_id)
        )
    return Sent(ids)


async def send_media_group(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    payload = row.payload
    items: list[dict[str, Any]] = [dict(item) for item in payload.get("items", [])]
    apart: dict[int, str] = {}  # item index -> its caption, too long to go with it
    for index, item in enumerate(items):
        caption = item.get("caption")
        if caption and not fits(caption, CAPTION_LIMIT):
            apart[index] = item.pop("caption")
    ids: list[int] = []
    reply = _reply(payload)
    for start in range(0, len(items), MEDIA_GROUP_LIMIT):
        chunk = items[start : start + MEDIA_GROUP_LIMIT]
        if len(chunk) == 1:
            ids.append(await _send_single(out.bot, row.chat_id, thread, chunk[0], reply))
            continue
        media = [
            _INPUT_MEDIA[item["type"]](
                media=item["file_id"], caption=item.get("caption"), parse_mode=HTML
            )
            for item in chunk
        ]
        messages = await out.bot.send_media_group(
            row.chat_id, media, message_thread_id=thread, reply_parameters=reply
        )
        ids.extend(message.message_id for message in messages)
    for index, caption in apart.items():
        target = ids[index] if index < len(ids) else None
        ids += await send_texts(out.bot, row.chat_id, thread, caption, reply=_reply_to(target))
    return Sent(ids)


async def _send_single(
    bot: Bot, chat_id: int, thread: int | None, item: dict[str, Any], reply: ReplyParameters | None
) -> int:
    senders: dict[str, Any] = {
        "photo": bot.send_photo,
        "video": bot.send_video,
        "document": bot.send_document,
        "audio": bot.send_audio,
    }
    message = await senders[item["type"]](
        chat_id,
        item["file_id"],
        caption=item.get("caption"),
        parse_mode=HTML,
        message_thread_id=thread,
        reply_parameters=reply,
    )
    return int(message.message_id)


async def send_digest(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    """The weekly digest: its text, then its chart (a PNG carried in the payload)."""
    payload = row.payload
    ids = await send_texts(out.bot, row.chat_id, thread, payload["html"])
    if payload.get("photo"):
        picture = BufferedInputFile(base64.b64decode(payload["photo"]), filename="digest.png")
        sent = await out.bot.send_photo(
            row.chat_id, picture, caption=payload.get("caption"), message_thread_id=thread
        )
        ids.append(sent.message_id)
    return Sent(ids)


async def send_edit_text(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    payload = row.payload
    await out.bot.edit_message_text(
        payload["html"],
        parse_mode=HTML,
        chat_id=row.chat_id,
        message_id=int(payload["message_id"]),
        reply_markup=_markup(payload.get("buttons")),
    )
    return Sent([])


async def send_edit_caption(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    payload = row.payload
    await out.bot.edit_message_caption(
        chat_id=row.chat_id,
        message_id=int(payload["message_id"]),
        caption=payload["html"],
        parse_mode=HTML,
    )
    return Sent([])


async def send_refresh(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    if out.threads is not None and row.ticket_id is not None:
        await out.threads.refresh(row.ticket_id)
    return Sent([])


async def send_delete_topic(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    """After an erasure with ERASE_TOPICS=delete: the customer's topic goes."""
    await out.bot.delete_forum_topic(row.chat_id, int(row.payload["thread_id"]))
    return Sent([])


async def send_nothing(out: Outlet, row: OutboxMessage, thread: int | None) -> Sent:
    """`open_topic`: the ticket's topic and card were made when its thread was looked up."""
    return Sent([])


SENDERS: dict[str, Sender] = {
    "text": send_text,
    NOTICE: send_text,
    INCIDENT_UPDATE: send_text,
    INCIDENT_RESOLVED: send_text,
    DIGEST: send_digest,
    "copy": send_copy,
    "media_group": send_media_group,
    "edit_text": send_edit_text,
    "edit_caption": send_edit_caption,
    REFRESH_CARD: send_refresh,
    OPEN_TOPIC: send_nothing,
    DELETE_TOPIC: send_delete_topic,
}
