"""Builders of real ``aiogram.types.Update`` objects for feeding a ``Dispatcher`` in tests.

``UpdateFactory(telegram=fake)`` links the builders to a :class:`FakeTelegram`: message ids
come from the same per-chat sequence the bot's own messages use (as in Telegram), every user
message is remembered (so the bot can copy, forward or reply to it, and callbacks carry the
current state of the message with the button), and topics must exist to be written in.
Without a fake the builders work on their own, with their own per-chat message counters
(starting at 10001 so they never collide with the ids a fake hands out to the bot).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiogram.types import Message, Update

from . import ids
from .formatting import utf16_len
from .users import DEFAULT_DATE, SupportsNow, TelegramUser, unix_time

if TYPE_CHECKING:
    from aiogram import Bot

    from .session import FakeTelegram

__all__ = ["TelegramUser", "UpdateFactory"]

#: Without a linked fake, user message ids start here, far from the ids a fake gives the bot's
#: own messages (which start at 1), so the two sequences can never be mistaken for each other.
STANDALONE_FIRST_MESSAGE_ID = 10_001

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,})?")


class UpdateFactory:
    """Makes updates with increasing ``update_id`` and ``message_id`` and a settable date."""

    def __init__(
        self,
        telegram: FakeTelegram | None = None,
        *,
        bot: Bot | None = None,
        clock: SupportsNow | None = None,
        date: datetime | None = None,
        first_update_id: int = 700_000_001,
        bot_id: int = 42,
        bot_username: str = "support_desk_test_bot",
        group_title: str = "Support staff",
    ) -> None:
        """
        :param telegram: the fake session to share message ids and state with (recommended).
        :param bot: mount updates on this bot (saves ``feed_update`` a re-validation).
        :param clock: where the date of updates comes from (anything with ``now()``).
        :param date: a fixed date instead (also settable later through :attr:`date`).
        """
        self.telegram = telegram
        self.bot = bot
        self._clock = clock
        self._date = date
        self._next_update_id = first_update_id
        self._message_ids: dict[int, int] = {}
        self._bot_id = bot_id
        self._bot_username = bot_username
        self.group_title = group_title
        if telegram is not None:
            telegram.link_updates()

    # ------------------------------------------------------------------------------ time

    @property
    def date(self) -> datetime:
        """Date of the next update: a fixed date if set, else the clock, the fake, a default."""
        if self._date is not None:
            return self._date
        if self._clock is not None:
            return self._clock.now()
        if self.telegram is not None:
            return self.telegram.now()
        return DEFAULT_DATE

    @date.setter
    def date(self, value: datetime | None) -> None:
        if value is not None and value.tzinfo is None:
            raise ValueError("use a timezone-aware datetime")
        self._date = value

    def advance(self, delta: timedelta) -> datetime:
        """Move the builders' fixed date forward and return it."""
        self._date = self.date + delta
        return self._date

    # --------------------------------------------------------------------- text messages

    def text(
        self,
        user: TelegramUser,
        text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        is_topic: bool | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A text message; a leading /command gets its ``bot_command`` entity."""
        content: dict[str, Any] = {"text": text}
        found = entities if entities is not None else self._command_entities(text)
        if found:
            content["entities"] = found
        return self._message_update(
            user,
            content,
            chat_id=chat_id,
            thread_id=thread_id,
            is_topic=is_topic,
            reply_to_message_id=reply_to_message_id,
            date=date,
        )

    def command(
        self,
        user: TelegramUser,
        command: str,
        args: str | None = None,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        mention_bot: bool = False,
        date: datetime | None = None,
    ) -> Update:
        """``/command args`` (``mention_bot`` adds ``@bot_username`` as in groups)."""
        name = command.lstrip("/")
        if mention_bot:
            name += f"@{self._bot_user()['username']}"
        text = f"/{name}" + (f" {args}" if args else "")
        return self.text(user, text, chat_id=chat_id, thread_id=thread_id, date=date)

    def group_text(
        self,
        user: TelegramUser,
        chat_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        is_topic: bool = True,
        reply_to_message_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """A message in a group (a forum supergroup by default), in a topic if ``thread_id``."""
        return self.text(
            user,
            text,
            chat_id=chat_id,
            thread_id=thread_id,
            is_topic=is_topic,
            reply_to_message_id=reply_to_message_id,
            date=date,
        )

    def edited_text(
        self,
        user: TelegramUser,
        original_message_id: int,
        new_text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """An ``edited_message`` update: the user changed the text of an earlier message."""
        moment = date or self.date
        target_chat = chat_id if chat_id is not None else user.id
        original = self._known_message(target_chat, original_message_id)
        if original is not None:
            if original.get("from", {}).get("id") != user.id:
                raise ValueError(f"message {original_message_id} was not sent by user {user.id}")
            message = copy.deepcopy(original)
            message.pop("entities", None)
            message.pop("caption_entities", None)
            key = "caption" if "caption" in message else "text"
            message[key] = new_text
        else:
            message = {
                "message_id": original_message_id,
                "from": user.to_api(),
                "chat": self._chat(user, target_chat),
                "date": unix_time(moment),
                "text": new_text,
            }
            if thread_id is not None:
                message["message_thread_id"] = thread_id
        if "text" in message:
            found = self._command_entities(new_text)
            if found:
                message["entities"] = found
        message["edit_date"] = unix_time(moment)
        if self.telegram is not None:
            self.telegram.record_incoming(message)
        return self._update("edited_message", message)

    # ------------------------------------------------------------------------------ media

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

    # ------------------------------------------------------------------ other update kinds

    def callback(
        self,
        user: TelegramUser,
        data: str,
        *,
        message: Message | None = None,
        chat_id: int | None = None,
        message_id: int | None = None,
        inline_message_id: str | None = None,
    ) -> Update:
        """A press of an inline button with ``data`` on ``message`` (or chat/message ids).

        With a linked fake the query carries the message as it is now (after any edits).
        """
        query: dict[str, Any] = {
            "id": ids.new_callback_query_id(),
            "from": user.to_api(),
            "data": data,
        }
        if message is not None:
            chat_id, message_id = message.chat.id, message.message_id
        if message_id is not None:
            target_chat = chat_id if chat_id is not None else user.id
            raw = self._known_message(target_chat, message_id)
            if raw is None and self.telegram is not None:
                raise ValueError(
                    f"message {message_id} in chat {target_chat} does not exist (deleted?)"
                )
            if raw is None and message is not None:
                raw = message.model_dump(mode="json", by_alias=True, exclude_none=True)
            if raw is None:
                raw = {
                    "message_id": message_id,
                    "from": self._bot_user(),
                    "chat": self._chat(user, target_chat),
                    "date": unix_time(self.date),
                }
            query["message"] = copy.deepcopy(raw)
            query["chat_instance"] = ids.chat_instance_for(target_chat)
        elif inline_message_id is not None:
            query["inline_message_id"] = inline_message_id
            query["chat_instance"] = ids.chat_instance_for(user.id)
        else:
            raise ValueError("a callback needs a message, chat_id/message_id or inline_message_id")
        if self.telegram is not None:
            self.telegram.record_callback_query(query["id"])
        return self._update("callback_query", query)

    def my_chat_member(
        self,
        user: TelegramUser,
        status: str = "kicked",
        *,
        old_status: str = "member",
        chat_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        """The bot's own membership changed; default: ``user`` blocked the bot.

        With a linked fake, "kicked" in a private chat also blocks sends to the user and
        "member" unblocks them.
        """
        target_chat = chat_id if chat_id is not None else user.id
        bot_user = self._bot_user()
        new_member: dict[str, Any] = {"status": status, "user": bot_user}
        if status == "kicked":
            new_member["until_date"] = 0
        old_member: dict[str, Any] = {"status": old_status, "user": bot_user}
        if old_status == "kicked":
            old_member["until_date"] = 0
        payload = {
            "chat": self._chat(user, target_chat),
            "from": user.to_api(),
            "date": unix_time(date or self.date),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        }
        if self.telegram is not None:
            if status in ("kicked", "left"):
                self.telegram.block_user(target_chat)
            elif status in ("member", "administrator"):
                self.telegram.unblock_user(target_chat)
        return self._update("my_chat_member", payload)

    def message(self, user: TelegramUser, content: dict[str, Any], **options: Any) -> Update:
        """Any other message: ``content`` holds raw Bot API fields (e.g. ``{"dice": ...}``)."""
        return self._message_update(user, content, **options)

    def update(self, **payload: Any) -> Update:
        """An update of any kind from raw Bot API JSON, e.g. ``update(poll_answer={...})``."""
        if len(payload) != 1:
            raise ValueError("pass exactly one update kind")
        ((kind, body),) = payload.items()
        return self._update(kind, body)

    # ---------------------------------------------------------------------------- helpers

    def _bot_user(self) -> dict[str, Any]:
        if self.telegram is not None:
            return self.telegram.bot_user_api()
        return {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": "Support Desk",
            "username": self._bot_username,
        }

    def _chat(self, user: TelegramUser, chat_id: int | None) -> dict[str, Any]:
        if self.telegram is not None:
            self.telegram.add_user(user)
        if chat_id is None or chat_id == user.id:
            return user.private_chat()
        if self.telegram is not None:
            return self.telegram.chat_api(chat_id)
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        return {"id": chat_id, "type": "supergroup", "title": self.group_title, "is_forum": True}

    def _next_message_id(self, chat_id: int) -> int:
        if self.telegram is not None:
            return self.telegram.allocate_message_id(chat_id)
        next_id = self._message_ids.get(chat_id, STANDALONE_FIRST_MESSAGE_ID)
        self._message_ids[chat_id] = next_id + 1
        return next_id

    def _known_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        if self.telegram is None:
            return None
        return self.telegram.stored_message(chat_id, message_id)

    def _command_entities(self, text: str) -> list[dict[str, Any]]:
        match = _COMMAND.match(text)
        if match is None:
            return []
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]

    def _reply_to(self, chat: dict[str, Any], message_id: int) -> dict[str, Any]:
        if self.telegram is not None:
            known = self.telegram.stored_message(chat["id"], message_id)
            if known is None:
                raise ValueError(f"no message {message_id} in chat {chat['id']} to reply to")
            reply = copy.deepcopy(known)
            reply.pop("reply_to_message", None)
            return reply
        # Without a fake we cannot know what was there: assume one of the bot's messages.
        return {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": chat,
            "date": unix_time(self.date),
        }

    def _topic_root(self, chat: dict[str, Any], thread_id: int) -> dict[str, Any]:
        if self.telegram is not None:
            root = self.telegram.topic_root(chat["id"], thread_id)
            if root is not None:
                reply = copy.deepcopy(root)
                reply.pop("reply_to_message", None)
                return reply
        return {
            "message_id": thread_id,
            "from": self._bot_user(),
            "chat": chat,
            "date": unix_time(self.date),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": {"name": f"Topic {thread_id}", "icon_color": 7322096},
        }

    def _message_update(
        self,
        user: TelegramUser,
        content: dict[str, Any],
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        is_topic: bool | None = None,
        reply_to_message_id: int | None = None,
        date: datetime | None = None,
    ) -> Update:
        chat = self._chat(user, chat_id)
        in_forum = bool(chat.get("is_forum"))
        topic = in_forum if is_topic is None else (is_topic and in_forum)
        if (
            thread_id is not None
            and topic
            and self.telegram is not None
            and not self.telegram.topic_exists(chat["id"], thread_id)
        ):
            raise ValueError(
                f"topic {thread_id} does not exist in chat {chat['id']} (deleted or never "
                "created); create it through the bot or FakeTelegram.create_topic"
            )
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user.to_api(),
            "chat": chat,
            "date": unix_time(date or self.date),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if topic:
                message["is_topic_message"] = True
        if reply_to_message_id is not None:
            message["reply_to_message"] = self._reply_to(chat, reply_to_message_id)
        elif thread_id is not None and topic:
            # In a topic every message replies to the topic's "created" service message.
            message["reply_to_message"] = self._topic_root(chat, thread_id)
        message.update(content)
        if self.telegram is not None:
            self.telegram.record_incoming(message)
        return self._update("message", message)

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

    def _update(self, kind: str, payload: dict[str, Any]) -> Update:
        raw = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
        self._next_update_id += 1
        context = {"bot": self.bot} if self.bot is not None else None
        return Update.model_validate(raw, context=context)
