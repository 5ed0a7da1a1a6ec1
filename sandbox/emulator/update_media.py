"""Updates with media from users: photos, documents, video, audio, voice, stickers, albums,
locations and contacts, with files the fake can serve back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiogram.types import Update

from . import ids
from .update_base import UpdateBase
from .users import TelegramUser


class MediaUpdates(UpdateBase):
    """Media messages users send."""

    def photo(
        self,
        user: TelegramUser,
        caption: str | None = None,
        *,
        media_group_id: str | None = None,
        width: int = 1280,
        height: int = 960,
        file_size: int = 153_210,
        chat_id: int | None = None,
        thread_id: int | None = None,
        is_topic: bool | None = None,
        reply_to_message_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A photo (several sizes, the largest last), optionally captioned or in an album."""
        content = self._photo_content(width, height, file_size)
        return self._media_update(
            user,
            content,
            caption,
            media_group_id,
            chat_id=chat_id,
            thread_id=thread_id,
            is_topic=is_topic,
            reply_to_message_id=reply_to_message_id,
            date=date,
        )

    def group_photo(
        self,
        user: TelegramUser,
        chat_id: int,
        caption: str | None = None,
        *,
        thread_id: int | None = None,
        is_topic: bool = True,
        media_group_id: str | None = None,
        reply_to_message_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A photo posted in a group (a forum topic if ``thread_id``)."""
        return self.photo(
            user,
            caption,
            media_group_id=media_group_id,
            chat_id=chat_id,
            thread_id=thread_id,
            is_topic=is_topic,
            reply_to_message_id=reply_to_message_id,
            date=date,
        )

    def document(
        self,
        user: TelegramUser,
        file_name: str = "receipt.pdf",
        mime_type: str = "application/pdf",
        *,
        caption: str | None = None,
        file_size: int = 48_213,
        media_group_id: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        is_topic: bool | None = None,
        reply_to_message_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A file sent as a document."""
        document = self._file(
            "document", file_size, {"file_name": file_name, "mime_type": mime_type}
        )
        return self._media_update(
            user,
            {"document": document},
            caption,
            media_group_id,
            chat_id=chat_id,
            thread_id=thread_id,
            is_topic=is_topic,
            reply_to_message_id=reply_to_message_id,
            date=date,
        )

    def video(
        self,
        user: TelegramUser,
        caption: str | None = None,
        *,
        duration: int = 12,
        width: int = 1280,
        height: int = 720,
        file_name: str = "video.mp4",
        mime_type: str = "video/mp4",
        file_size: int = 2_480_113,
        media_group_id: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        is_topic: bool | None = None,
        reply_to_message_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A video."""
        video = self._file(
            "video",
            file_size,
            {
                "width": width,
                "height": height,
                "duration": duration,
                "file_name": file_name,
                "mime_type": mime_type,
            },
        )
        return self._media_update(
            user,
            {"video": video},
            caption,
            media_group_id,
            chat_id=chat_id,
            thread_id=thread_id,
            is_topic=is_topic,
            reply_to_message_id=reply_to_message_id,
            date=date,
        )

    def audio(
        self,
        user: TelegramUser,
        caption: str | None = None,
        *,
        duration: int = 185,
        performer: str | None = None,
        title: str | None = None,
        file_name: str = "track.mp3",
        file_size: int = 3_120_554,
        chat_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A music file."""
        extra: dict[str, Any] = {
            "duration": duration,
            "file_name": file_name,
            "mime_type": "audio/mpeg",
        }
        if performer:
            extra["performer"] = performer
        if title:
            extra["title"] = title
        audio = self._file("audio", file_size, extra)
        return self._media_update(user, {"audio": audio}, caption, None, chat_id=chat_id, date=date)

    def voice(
        self,
        user: TelegramUser,
        *,
        duration: int = 4,
        file_size: int = 14_336,
        caption: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        is_topic: bool | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A voice message."""
        voice = self._file("voice", file_size, {"duration": duration, "mime_type": "audio/ogg"})
        return self._media_update(
            user,
            {"voice": voice},
            caption,
            None,
            chat_id=chat_id,
            thread_id=thread_id,
            is_topic=is_topic,
            date=date,
        )

    def sticker(
        self,
        user: TelegramUser,
        emoji: str = "👍",
        *,
        set_name: str | None = "SupportDeskStickers",
        chat_id: int | None = None,
        thread_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A regular (static) sticker."""
        extra: dict[str, Any] = {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        if set_name:
            extra["set_name"] = set_name
        sticker = self._file("sticker", 21_874, extra)
        return self._message_update(
            user, {"sticker": sticker}, chat_id=chat_id, thread_id=thread_id, date=date
        )

    def location(
        self,
        user: TelegramUser,
        latitude: float = 55.751244,
        longitude: float = 37.618423,
        *,
        chat_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A shared location."""
        content = {"location": {"latitude": latitude, "longitude": longitude}}
        return self._message_update(user, content, chat_id=chat_id, date=date)

    def contact(
        self,
        user: TelegramUser,
        phone: str = "+79991234567",
        *,
        own: bool = True,
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: int | None = None,
        chat_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A shared contact; ``own=True`` is the user's own number (``user_id`` = the user)."""
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": first_name or (user.first_name if own else "Contact"),
        }
        surname = last_name if last_name is not None else (user.last_name if own else None)
        if surname:
            contact["last_name"] = surname
        owner = user.id if own else user_id
        if owner is not None:
            contact["user_id"] = owner
        return self._message_update(user, {"contact": contact}, chat_id=chat_id, date=date)

    def album(
        self,
        user: TelegramUser,
        kinds: Sequence[str] = ("photo", "photo", "document"),
        caption: str | None = None,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        is_topic: bool | None = None,
        date: datetime | None = None,
    ) -> list[Update]:
        """Several media sent together: one update each, sharing a ``media_group_id``.

        As in Telegram, the caption sits on the first item only. Kinds: "photo", "video",
        "document", "audio".
        """
        group_id = ids.new_media_group_id()
        updates = []
        for index, kind in enumerate(kinds):
            item_caption = caption if index == 0 else None
            if kind == "photo":
                content = self._photo_content(1280, 960, 140_000 + index)
            elif kind == "video":
                content = {
                    "video": self._file(
                        "video",
                        2_000_000 + index,
                        {"width": 1280, "height": 720, "duration": 9, "mime_type": "video/mp4"},
                    )
                }
            elif kind == "document":
                content = {
                    "document": self._file(
                        "document",
                        40_000 + index,
                        {"file_name": f"file_{index + 1}.pdf", "mime_type": "application/pdf"},
                    )
                }
            elif kind == "audio":
                content = {
                    "audio": self._file(
                        "audio", 3_000_000 + index, {"duration": 120, "mime_type": "audio/mpeg"}
                    )
                }
            else:
                raise ValueError(f"albums hold photo, video, document or audio, not {kind!r}")
            updates.append(
                self._media_update(
                    user,
                    content,
                    item_caption,
                    group_id,
                    chat_id=chat_id,
                    thread_id=thread_id,
                    is_topic=is_topic,
                    date=date,
                )
            )
        return updates

    def _media_update(
        self,
        user: TelegramUser,
        content: dict[str, Any],
        caption: str | None,
        media_group_id: str | None,
        **options: Any,
    ) -> Update:
        content = dict(content)
        if caption is not None:
            content["caption"] = caption
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        return self._message_update(user, content, **options)

    def _file(self, kind: str, file_size: int, extra: dict[str, Any]) -> dict[str, Any]:
        pair = ids.new_file_ids(kind)
        data = {"file_id": pair.file_id, "file_unique_id": pair.file_unique_id, **extra}
        data["file_size"] = file_size
        if self.telegram is not None:
            self.telegram.register_file(kind, data)
        return data

    def _photo_content(self, width: int, height: int, file_size: int) -> dict[str, Any]:
        sizes = []
        for side in (90, 320, 800, max(width, height)):
            scale = min(side / max(width, height), 1.0)
            pair = ids.new_file_ids("photo")
            sizes.append(
                {
                    "file_id": pair.file_id,
                    "file_unique_id": pair.file_unique_id,
                    "file_size": max(int(file_size * scale * scale), 1),
                    "width": max(round(width * scale), 1),
                    "height": max(round(height * scale), 1),
                }
            )
        if self.telegram is not None:
            self.telegram.register_file("photo", sizes[-1], sizes=sizes)
        return {"photo": sizes}
