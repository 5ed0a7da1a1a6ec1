"""What a test sets up (users, chats, admins, blocked users, injected failures, held calls)
and reads back (calls, messages into a chat, topics, buttons)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from aiogram.types import Message

from .api_errors import (
    DEFAULT_DESCRIPTIONS,
)
from .core import EmulatorCore
from .records import MESSAGE_METHODS, HeldCall, RecordedCall
from .state import (
    Failure,
    json_copy,
    normalise_method_name,
)
from .users import TelegramUser

if TYPE_CHECKING:
    pass


class TestControls(EmulatorCore):
    """Set-up and reading helpers of ``FakeTelegram``."""

    def add_user(self, user: TelegramUser) -> None:
        """Make a user known: their private chat and chat-member answers use their names."""
        self._users[user.id] = user
        chat = self._chats.get(user.id)
        if chat is not None and chat.type == "private":
            chat.first_name, chat.last_name = user.first_name, user.last_name
            chat.username = user.username

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        username: str | None = None,
        is_forum: bool | None = None,
    ) -> None:
        """Create or reconfigure a chat ("private", "group", "supergroup", "channel")."""
        chat = self._chat(chat_id)
        if chat_type is not None:
            chat.type = chat_type
            if chat_type != "supergroup":
                chat.is_forum = False
        if title is not None:
            chat.title = title
        if username is not None:
            chat.username = username
        if is_forum is not None:
            chat.is_forum = is_forum

    def set_forum(self, chat_id: int, is_forum: bool = True) -> None:
        """Turn topics on or off for a supergroup."""
        chat = self._chat(chat_id)
        if is_forum and chat.type != "supergroup":
            chat.type = "supergroup"
        chat.is_forum = is_forum

    def set_admins(
        self, chat_id: int, user_ids: Iterable[int], *, creator_id: int | None = None
    ) -> None:
        """Administrators of a group: the creator (default: the first id) plus the others."""
        chat = self._chat(chat_id)
        admins = list(user_ids)
        chat.admins = admins
        chat.creator_id = creator_id if creator_id is not None else (admins[0] if admins else None)
        if chat.creator_id is not None and chat.creator_id not in admins:
            admins.insert(0, chat.creator_id)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Status of a non-admin user in a group: "member" (the default), "left", "kicked"."""
        if status not in ("member", "left", "kicked"):
            raise ValueError("status must be member, left or kicked")
        self._chat(chat_id).member_status[user_id] = status

    def set_bot_rights(
        self, chat_id: int, *, is_admin: bool = True, can_manage_topics: bool = True
    ) -> None:
        """The bot's own rights in a group (it is an admin that can manage topics by default)."""
        chat = self._chat(chat_id)
        chat.bot_is_admin = is_admin
        chat.bot_can_manage_topics = is_admin and can_manage_topics

    def block_user(self, chat_id: int) -> None:
        """Every call into this chat now fails: 403 "bot was blocked by the user" (or kicked)."""
        self._chat(chat_id).blocked = True

    def unblock_user(self, chat_id: int) -> None:
        self._chat(chat_id).blocked = False

    def fail_next(
        self,
        method_name: str,
        *,
        retry_after: int | None = None,
        error_code: int | None = None,
        description: str | None = None,
        network: bool = False,
        network_message: str = "Request timeout error",
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of a method fail (optionally only calls into one chat).

        ``retry_after=N`` gives HTTP 429 with ``parameters.retry_after`` (TelegramRetryAfter);
        ``network=True`` raises TelegramNetworkError; otherwise ``error_code`` (default 400)
        with ``description`` (default: Telegram's usual text for that code).
        """
        if retry_after is not None:
            code = 429
            text = description or f"Too Many Requests: retry after {retry_after}"
        else:
            code = error_code or 400
            text = description or DEFAULT_DESCRIPTIONS.get(code, f"Error {code}")
        for _ in range(times):
            self._failures.append(
                Failure(
                    method=normalise_method_name(method_name),
                    chat_id=chat_id,
                    error_code=code,
                    description=text,
                    retry_after=retry_after,
                    network=network,
                    network_message=network_message,
                )
            )

    def fail_until(
        self,
        method_name: str,
        until: datetime,
        *,
        error_code: int = 500,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """An outage: every call of the method (into one chat, if given) fails with
        ``error_code`` until the fake's clock reaches ``until``."""
        self._failures.append(
            Failure(
                method=normalise_method_name(method_name),
                chat_id=chat_id,
                error_code=error_code,
                description=description or DEFAULT_DESCRIPTIONS.get(error_code, "Error"),
                retry_after=None,
                network=False,
                network_message="",
                until=until,
            )
        )

    def never_started(self, user_id: int) -> None:
        """A user who never opened a chat with the bot: calls into it answer 400 "chat not
        found", as Telegram does."""
        self._unknown_chats.add(user_id)

    def hold(self, method_name: str) -> HeldCall:
        """The next call of the method is recorded, then waits until ``answer`` is set before
        it is answered (a slow Bot API, a process killed mid-call)."""
        held = HeldCall()
        self._holds.setdefault(normalise_method_name(method_name), []).append(held)
        return held

    def clear(self) -> None:
        """Forget recorded calls (state such as chats, messages and topics is kept)."""
        self.calls.clear()
        self.unknown_methods.clear()

    def calls_of(self, *names: str) -> list[RecordedCall]:
        """Recorded calls of the given methods ("sendMessage" or "send_message"), in order."""
        wanted = {normalise_method_name(name) for name in names}
        return [c for c in self.calls if normalise_method_name(c.name) in wanted]

    def sent_to(
        self,
        chat_id: int,
        *,
        thread_id: int | EllipsisType | None = ...,
        include_failed: bool = False,
    ) -> list[RecordedCall]:
        """Message-putting calls (send*, copy*, forward*) into a chat, in order.

        ``thread_id`` narrows to one topic (``None``: outside topics); failed calls are left
        out unless ``include_failed``.
        """
        result = []
        for call in self.calls:
            if call.name not in MESSAGE_METHODS or self._call_chat(call) != chat_id:
                continue
            if not (include_failed or call.ok):
                continue
            if thread_id is not ... and call.thread_id != thread_id:
                continue
            result.append(call)
        return result

    def messages_to(
        self, chat_id: int, *, thread_id: int | EllipsisType | None = ...
    ) -> list[Message]:
        """Every message delivered into a chat (album items one by one), as sent."""
        return [m for call in self.sent_to(chat_id, thread_id=thread_id) for m in call.delivered]

    def last_sent(self, chat_id: int, *, thread_id: int | EllipsisType | None = ...) -> Message:
        """The last message the bot delivered into a chat (AssertionError if there is none)."""
        messages = self.messages_to(chat_id, thread_id=thread_id)
        if not messages:
            sent = [(c.name, c.chat_id) for c in self.calls if c.name in MESSAGE_METHODS]
            raise AssertionError(f"nothing was sent to chat {chat_id}; message calls: {sent}")
        return messages[-1]

    def texts_to(self, chat_id: int, *, thread_id: int | EllipsisType | None = ...) -> list[str]:
        """Text or caption (as the user sees it, markup parsed) of each delivered message."""
        texts = []
        for message in self.messages_to(chat_id, thread_id=thread_id):
            value = message.text if message.text is not None else message.caption
            if value is not None:
                texts.append(value)
        return texts

    def message(self, chat_id: int, message_id: int) -> Message | None:
        """Current state of a message (after edits); None if deleted or never seen."""
        raw = self.stored_message(chat_id, message_id)
        if raw is None:
            return None
        context = {"bot": self._last_bot} if self._last_bot is not None else None
        return Message.model_validate(copy.deepcopy(raw), context=context)

    def topics(self, chat_id: int) -> dict[int, str]:
        """Live topics of a forum: thread id -> name."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return {}
        return {t.thread_id: t.name for t in chat.topics.values() if not t.deleted}

    def is_topic_closed(self, chat_id: int, thread_id: int) -> bool:
        return self._chat(chat_id).topics[thread_id].closed

    def history(self, chat_id: int) -> list[dict[str, Any]]:
        """Raw JSON of every live message of a chat, oldest first (a copy)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [json_copy(chat.messages[key]) for key in sorted(chat.messages)]

    @staticmethod
    def inline_buttons(
        target: RecordedCall | Message | dict[str, Any] | None,
    ) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data or url or other payload) of an inline keyboard."""
        markup = EmulatorCore._markup_of(target)
        rows: list[list[tuple[str, str | None]]] = []
        for row in markup.get("inline_keyboard") or []:
            rows.append([(button["text"], EmulatorCore._button_payload(button)) for button in row])
        return rows

    @staticmethod
    def reply_buttons(target: RecordedCall | dict[str, Any] | None) -> list[list[str]]:
        """Rows of button texts of a reply keyboard (Telegram never echoes these back)."""
        markup = EmulatorCore._markup_of(target)
        return [
            [button if isinstance(button, str) else button["text"] for button in row]
            for row in markup.get("keyboard") or []
        ]

    @staticmethod
    def button_data(target: RecordedCall | Message | dict[str, Any] | None, text: str) -> str:
        """The callback_data (or url) of the inline button with this text."""
        rows = TestControls.inline_buttons(target)
        for row in rows:
            for button_text, payload in row:
                if button_text == text and payload is not None:
                    return payload
        raise KeyError(f"no inline button {text!r}; buttons: {rows}")
