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
from datetime import datetime
from typing import Any

from aiogram.types import Message, Update

from . import ids
from .update_media import MediaUpdates
from .users import TelegramUser, unix_time

__all__ = ["TelegramUser", "UpdateFactory"]


class UpdateFactory(MediaUpdates):
    """Makes updates with increasing ``update_id`` and ``message_id`` and a settable date."""

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
