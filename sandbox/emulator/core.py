"""The emulator's state and the checks every call goes through (chat, topic, message).

The Bot API methods live in mixins by subject (messages, media, topics, chats); ``FakeTelegram``
(``session.py``) puts them together and answers each call."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import InputFile, Message

from .api_errors import (
    BLOCKED_BY_USER,
    CHAT_NOT_FOUND,
    THREAD_NOT_FOUND,
    ApiError,
    bad_request,
)
from .records import HeldCall, RecordedCall
from .state import (
    ChatState,
    Failure,
    FileRecord,
    Request,
    as_int,
    normalise_method_name,
)
from .users import DEFAULT_DATE, SupportsNow, TelegramUser

if TYPE_CHECKING:
    from aiogram import Bot


class EmulatorCore(BaseSession):
    """State, time, chat lookups and the hooks an ``UpdateFactory`` uses."""

    def __init__(
        self,
        *,
        clock: SupportsNow | None = None,
        bot_first_name: str = "Support Desk",
        bot_username: str = "support_desk_test_bot",
        forums_by_default: bool = True,
        strict_messages: bool = False,
    ) -> None:
        """
        :param clock: where "now" comes from (anything with ``now()``); default a fixed date.
        :param forums_by_default: negative chat ids are forum supergroups unless configured.
        :param strict_messages: treat messages the fake never saw as nonexistent (copy, forward,
            delete, pin, reply). Turned on automatically when an ``UpdateFactory`` is linked,
            because then every incoming message is known.
        """
        super().__init__()
        self.calls: list[RecordedCall] = []
        self.unknown_methods: list[str] = []
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username
        self.forums_by_default = forums_by_default
        self.strict_messages = strict_messages
        self.bot_id: int | None = None
        self._last_bot: Bot | None = None
        self.closed = False
        self._clock = clock
        self._fixed_now = DEFAULT_DATE
        self._chats: dict[int, ChatState] = {}
        self._users: dict[int, TelegramUser] = {}
        self._failures: list[Failure] = []
        self._unknown_chats: set[int] = set()
        self._holds: dict[str, list[HeldCall]] = {}
        self._files: dict[str, FileRecord] = {}
        self._file_contents: dict[str, bytes] = {}
        self._callback_queries: dict[str, bool] = {}
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._handlers = self._handler_table()

    def _handler_table(self) -> dict[str, Callable[[Request], Any]]:
        """The Bot API methods answered, by name (``FakeTelegram`` lists its mixins' ones)."""
        return {}

    def now(self) -> datetime:
        """The fake's current time (from the clock given, else a settable fixed moment)."""
        return self._clock.now() if self._clock is not None else self._fixed_now

    def set_time(self, moment: datetime) -> None:
        """Freeze the fake's time at ``moment`` (drops a clock passed to the constructor)."""
        if moment.tzinfo is None:
            raise ValueError("use a timezone-aware datetime")
        self._clock = None
        self._fixed_now = moment

    def advance(self, delta: timedelta) -> None:
        self.set_time(self.now() + delta)

    def link_updates(self) -> None:
        """Called by ``UpdateFactory(telegram=fake)``: from now on all messages are known."""
        self.strict_messages = True

    def allocate_message_id(self, chat_id: int) -> int:
        """The next message id of a chat (shared by incoming and outgoing messages)."""
        return self._chat(chat_id).allocate()

    def chat_api(self, chat_id: int) -> dict[str, Any]:
        """The chat as it appears in updates (``Chat`` JSON)."""
        return self._chat(chat_id).api()

    def bot_user_api(self) -> dict[str, Any]:
        data = {
            "id": self.bot_id or 42,
            "is_bot": True,
            "first_name": self.bot_first_name,
        }
        if self.bot_username:
            data["username"] = self.bot_username
        return data

    def record_incoming(self, message: dict[str, Any]) -> None:
        """Remember a message a user sent (or edited), so the bot can copy, reply, forward."""
        chat_data = message["chat"]
        chat = self._chat(chat_data["id"])
        if chat.type != "private" and chat_data.get("title"):
            chat.title = chat_data["title"]
        chat.messages[message["message_id"]] = copy.deepcopy(message)
        chat.next_message_id = max(chat.next_message_id, message["message_id"] + 1)

    def register_file(
        self, kind: str, data: dict[str, Any], *, sizes: list[dict[str, Any]] | None = None
    ) -> None:
        """Remember a file a user sent (its id can be re-sent, fetched and downloaded)."""
        for item in sizes or [data]:
            self._files[item["file_id"]] = FileRecord(
                kind=kind, data=dict(item), group=copy.deepcopy(sizes) if sizes else None
            )

    def record_callback_query(self, query_id: str) -> None:
        self._callback_queries[query_id] = False

    def stored_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Raw JSON of a live message, or None."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return None
        return chat.messages.get(message_id)

    def topic_exists(self, chat_id: int, thread_id: int) -> bool:
        chat = self._chats.get(chat_id)
        topic = chat.topics.get(thread_id) if chat else None
        return topic is not None and not topic.deleted

    def topic_root(self, chat_id: int, thread_id: int) -> dict[str, Any] | None:
        """The "topic created" service message that opens a topic."""
        return self.stored_message(chat_id, thread_id)

    def _wire_params(
        self, bot: Bot, method: TelegramMethod[Any], files: dict[str, InputFile]
    ) -> dict[str, Any]:
        """Parameters exactly as an HTTP session would serialise them, minus JSON strings."""
        params: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                params[key] = prepared
        return params

    def _take_failure(self, name: str, params: dict[str, Any]) -> Failure | None:
        normalised = normalise_method_name(name)
        chat_id = as_int(params.get("chat_id"))
        for index, failure in enumerate(self._failures):
            if failure.method != normalised:
                continue
            if failure.chat_id is not None and failure.chat_id != chat_id:
                continue
            if failure.until is not None:
                if self.now() < failure.until:
                    return failure
                continue
            return self._failures.pop(index)
        return None

    def _unknown_method(self, request: Request, call: RecordedCall) -> Any:
        call.unknown = True
        self.unknown_methods.append(request.name)
        if "chat_id" in request.params and not request.name.startswith("get"):
            self._target_chat(request)
        if request.method.__returning__ is bool:
            return True
        raise NotImplementedError(
            f"FakeTelegram has no model of {request.name}; its result cannot be faked as True"
        )

    def _call_chat(self, call: RecordedCall) -> int | None:
        value = call.params.get("chat_id")
        number = as_int(value)
        if number is not None:
            return number
        if isinstance(value, str):
            for chat in self._chats.values():
                if chat.username and f"@{chat.username}" == value:
                    return chat.id
        return None

    def _chat(self, chat_id: int) -> ChatState:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                user = self._users.get(chat_id)
                chat = ChatState(
                    id=chat_id,
                    type="private",
                    first_name=user.first_name if user else "User",
                    last_name=user.last_name if user else None,
                    username=user.username if user else None,
                )
            else:
                chat = ChatState(
                    id=chat_id,
                    type="supergroup",
                    title=f"Chat {chat_id}",
                    is_forum=self.forums_by_default,
                )
            self._chats[chat_id] = chat
        return chat

    def _resolve_chat(self, value: Any) -> ChatState:
        number = as_int(value)
        if number is not None:
            if number in self._unknown_chats:
                raise bad_request(CHAT_NOT_FOUND)
            return self._chat(number)
        if isinstance(value, str):
            for chat in self._chats.values():
                if chat.username and f"@{chat.username}" == value:
                    return chat
        raise bad_request(CHAT_NOT_FOUND)

    def _target_chat(self, request: Request, key: str = "chat_id") -> ChatState:
        """The chat a call acts on; a blocked user or a kicked bot answers 403."""
        chat = self._resolve_chat(request.params.get(key))
        if chat.blocked:
            if chat.type == "private":
                raise ApiError(403, BLOCKED_BY_USER)
            where = "group chat" if chat.type == "group" else f"{chat.type} chat"
            raise ApiError(403, f"Forbidden: bot was kicked from the {where}")
        return chat

    def _check_thread(self, chat: ChatState, thread_id: Any) -> int | None:
        if thread_id is None:
            return None
        thread = int(thread_id)
        topic = chat.topics.get(thread)
        if chat.is_forum:
            if topic is None or topic.deleted:
                raise bad_request(THREAD_NOT_FOUND)
            if topic.closed and not chat.bot_can_manage_topics:
                raise bad_request("Bad Request: TOPIC_CLOSED")
            return thread
        if thread not in chat.messages:
            raise bad_request(THREAD_NOT_FOUND)
        return thread

    def _is_gone(self, chat: ChatState, message_id: int) -> bool:
        """A message that certainly does not exist (deleted, or unknown in strict mode)."""
        if message_id in chat.deleted:
            return True
        return self.strict_messages and message_id not in chat.messages

    def _bot_user(self, bot: Bot) -> dict[str, Any]:
        self.bot_id = bot.id
        return self.bot_user_api()

    def _user_api(self, user_id: int) -> dict[str, Any]:
        if self.bot_id is not None and user_id == self.bot_id:
            return self.bot_user_api()
        user = self._users.get(user_id)
        if user is not None:
            return user.to_api()
        return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}

    def _store(self, chat: ChatState, message: dict[str, Any], request: Request | None) -> None:
        chat.messages[message["message_id"]] = message
        if request is not None:
            request.delivered.append(message)

    @staticmethod
    def _markup_of(target: RecordedCall | Message | dict[str, Any] | None) -> dict[str, Any]:
        if target is None:
            return {}
        if isinstance(target, RecordedCall):
            return target.reply_markup or {}
        if isinstance(target, Message):
            if target.reply_markup is None:
                return {}
            return target.reply_markup.model_dump(exclude_none=True)
        return target

    @staticmethod
    def _button_payload(button: dict[str, Any]) -> str | None:
        for key in (
            "callback_data",
            "url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
        ):
            if button.get(key) is not None:
                return str(button[key])
        for key in ("web_app", "login_url"):
            if isinstance(button.get(key), dict):
                return str(button[key].get("url"))
        if isinstance(button.get("copy_text"), dict):
            return str(button["copy_text"].get("text"))
        return None
