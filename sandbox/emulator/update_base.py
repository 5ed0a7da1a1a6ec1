"""What every built update shares: ids, dates, chats, replies and topics, linked to the fake."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiogram.types import Update

from .formatting import utf16_len
from .users import DEFAULT_DATE, SupportsNow, TelegramUser, unix_time

if TYPE_CHECKING:
    from aiogram import Bot

    from .session import FakeTelegram


#: Without a linked fake, user message ids start here, far from the ids a fake gives the bot's
#: own messages (which start at 1), so the two sequences can never be mistaken for each other.
STANDALONE_FIRST_MESSAGE_ID = 10_001

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,})?")


class UpdateBase:
    """Ids, the date and the message plumbing of :class:`UpdateFactory`."""

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

    def message(self, user: TelegramUser, content: dict[str, Any], **options: Any) -> Update:
        """Any other message: ``content`` holds raw Bot API fields (e.g. ``{"dice": ...}``)."""
        return self._message_update(user, content, **options)

    def update(self, **payload: Any) -> Update:
        """An update of any kind from raw Bot API JSON, e.g. ``update(poll_answer={...})``."""
        if len(payload) != 1:
            raise ValueError("pass exactly one update kind")
        ((kind, body),) = payload.items()
        return self._update(kind, body)

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

    def _update(self, kind: str, payload: dict[str, Any]) -> Update:
        raw = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
        self._next_update_id += 1
        context = {"bot": self.bot} if self.bot is not None else None
        return Update.model_validate(raw, context=context)
