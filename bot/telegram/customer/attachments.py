"""Turning a Telegram message into the transport-neutral shapes the services store."""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram.types import Message

from bot.services.intake import FileRef, IncomingMessage


def files_of(message: Message) -> list[FileRef]:
    group = message.media_group_id
    if message.photo:
        largest = message.photo[-1]
        return [
            FileRef(
                "photo",
                largest.file_id,
                largest.file_unique_id,
                None,
                "image/jpeg",
                largest.file_size,
                group,
            )
        ]
    for kind in ("document", "video", "audio", "voice", "animation", "video_note", "sticker"):
        media = getattr(message, kind, None)
        if media is not None:
            return [
                FileRef(
                    kind,
                    media.file_id,
                    media.file_unique_id,
                    getattr(media, "file_name", None),
                    getattr(media, "mime_type", None),
                    media.file_size,
                    group,
                )
            ]
    return []


def describe_non_file(message: Message) -> str | None:
    """Text stored for messages that carry neither text nor files (location, contact...)."""
    if message.location is not None:
        return f"{message.location.latitude},{message.location.longitude}"
    if message.contact is not None:
        return message.contact.phone_number
    return None


def incoming(message: Message, update_id: int | None = None) -> IncomingMessage:
    return IncomingMessage(
        chat_id=message.chat.id,
        message_id=message.message_id,
        content_type=ContentType(message.content_type).value,
        text=message.text or message.caption or describe_non_file(message),
        files=tuple(files_of(message)),
        media_group_id=message.media_group_id,
        update_id=update_id,
        reply_to=message.reply_to_message.message_id if message.reply_to_message else None,
    )
