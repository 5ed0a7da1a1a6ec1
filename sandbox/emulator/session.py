"""A Bot API session that records every call and answers the way Telegram does, offline.

``Bot(token="42:TEST", session=FakeTelegram())`` makes a bot whose every API call lands here.
Each call is recorded (:class:`RecordedCall`), answered with a realistic raw JSON result built
from the fake's state (chats, messages, topics, files, admins), and that JSON goes through
aiogram's own ``BaseSession.check_response``: results are parsed and typed exactly like real
ones and errors become aiogram's real exceptions (``TelegramBadRequest``,
``TelegramForbiddenError``, ``TelegramRetryAfter`` ...) with Telegram's wording.
"""

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import re
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import EllipsisType
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, InputFile, Message, URLInputFile

from . import ids
from .formatting import EntityParseError, FormattedText, UnsupportedParseMode, format_text
from .users import DEFAULT_DATE, SupportsNow, TelegramUser, unix_time

if TYPE_CHECKING:
    from aiogram import Bot

# ------------------------------------------------------------------------------ Telegram limits

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_TOPIC_NAME_LENGTH = 128
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
DEFAULT_TOPIC_COLOR = 7322096  # the first of the six colours Telegram allows for topic icons

# -------------------------------------------------------------------- Telegram's error wording

THREAD_NOT_FOUND = "Bad Request: message thread not found"
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CHAT_NOT_FORUM = "Bad Request: the chat is not a forum"
BLOCKED_BY_USER = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

#: Methods that put messages into a chat; ``sent_to`` and friends look at these.
MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendDice",
        "sendMediaGroup",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)

# Methods the fake knows and simply acknowledges with True (after the usual chat checks).
_ACKNOWLEDGED = frozenset(
    {
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
        "setMyDefaultAdministratorRights",
        "setMessageReaction",
        "setChatTitle",
        "setChatDescription",
        "banChatMember",
        "unbanChatMember",
        "restrictChatMember",
        "promoteChatMember",
        "leaveChat",
        "unpinAllChatMessages",
        "unpinAllForumTopicMessages",
        "unpinAllGeneralForumTopicMessages",
        "editGeneralForumTopic",
        "closeGeneralForumTopic",
        "reopenGeneralForumTopic",
        "hideGeneralForumTopic",
        "unhideGeneralForumTopic",
        "logOut",
        "close",
    }
)

# Content fields that travel with a copied or forwarded message.
_CONTENT_FIELDS = (
    "text",
    "entities",
    "link_preview_options",
    "animation",
    "audio",
    "document",
    "photo",
    "sticker",
    "video",
    "video_note",
    "voice",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "contact",
    "dice",
    "venue",
    "location",
)
_CAPTIONED_MEDIA = ("photo", "video", "document", "audio", "animation", "voice")
_SERVICE_FIELDS = ("forum_topic_created", "forum_topic_closed", "forum_topic_reopened")


class ApiError(Exception):
    """An error answer of the Bot API, raised inside the fake and turned into JSON."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters: dict[str, Any] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def _bad_request(description: str) -> ApiError:
    return ApiError(400, description)


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    429: "Too Many Requests: retry after 1",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class RecordedCall:
    """One Bot API call the bot made, with what the fake answered."""

    name: str
    """The Bot API method name, e.g. ``"sendMessage"``."""
    params: dict[str, Any]
    """Parameters as they would go over the wire (defaults resolved, files as attach://)."""
    method: TelegramMethod[Any]
    """The aiogram method object itself."""
    files: dict[str, InputFile] = field(default_factory=dict)
    """Uploaded files by attach key."""
    result: Any = None
    """The typed result the bot received (None when the call failed)."""
    raw_result: Any = None
    """The raw JSON ``result`` the fake answered with."""
    error: Exception | None = None
    """The exception the bot received (aiogram's own types), or None."""
    delivered_raw: list[dict[str, Any]] = field(default_factory=list, repr=False)
    """What `delivered` is read from: JSON snapshots taken when the call was answered."""
    injected: bool = False
    """True when the answer came from ``fail_next``."""
    unknown: bool = False
    """True when the fake has no model of this method."""
    timeout: int | None = None

    _delivered: list[Message] | None = field(default=None, repr=False)
    _bot: Bot | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def delivered(self) -> list[Message]:
        """Messages this call put into a chat, as they were at that moment (copies included).

        Typed on first use: most calls are never looked at this way, and building the models
        for every call would make the fake dominate what benchmarks measure."""
        if self._delivered is None:
            self._delivered = [
                Message.model_validate(raw, context={"bot": self._bot})
                for raw in self.delivered_raw
            ]
        return self._delivered

    @property
    def chat_id(self) -> int | str | None:
        value = self.params.get("chat_id")
        return cast("int | str | None", value)

    @property
    def thread_id(self) -> int | None:
        return cast("int | None", self.params.get("message_thread_id"))

    @property
    def text(self) -> str | None:
        """``text`` or ``caption`` exactly as the bot sent it (markup included)."""
        value = self.params.get("text", self.params.get("caption"))
        return cast("str | None", value)

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return cast("dict[str, Any] | None", self.params.get("reply_markup"))

    @property
    def message(self) -> Message | None:
        """The (first) message this call delivered, or the Message it returned."""
        if self.delivered:
            return self.delivered[0]
        return self.result if isinstance(self.result, Message) else None


@dataclass
class _Failure:
    method: str
    chat_id: int | None
    error_code: int
    description: str
    retry_after: int | None
    network: bool
    network_message: str
    until: datetime | None = None
    """A timed outage: every matching call fails until then (the failure is not used up)."""


@dataclass
class HeldCall:
    """A call kept waiting by :meth:`FakeTelegram.hold`."""

    called: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the call arrives."""
    answer: asyncio.Event = field(default_factory=asyncio.Event)
    """Set it to let the call be answered."""


@dataclass
class _Topic:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False


@dataclass
class _FileRecord:
    kind: str
    data: dict[str, Any]
    group: list[dict[str, Any]] | None = None  # all sizes of a photo
    file_path: str | None = None


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    topics: dict[int, _Topic] = field(default_factory=dict)
    admins: list[int] = field(default_factory=list)
    creator_id: int | None = None
    member_status: dict[int, str] = field(default_factory=dict)
    bot_is_admin: bool = True
    bot_can_manage_topics: bool = True
    blocked: bool = False
    pinned: list[int] = field(default_factory=list)

    def allocate(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or "User"
            if self.last_name:
                data["last_name"] = self.last_name
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.username:
            data["username"] = self.username
        if self.type == "supergroup" and self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class _Request:
    bot: Bot
    method: TelegramMethod[Any]
    name: str
    params: dict[str, Any]
    files: dict[str, InputFile]
    delivered: list[dict[str, Any]] = field(default_factory=list)


def _normalise_method_name(name: str) -> str:
    return name.replace("_", "").lower()


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data; a JSON round trip is several times faster than
    `copy.deepcopy`, and the fake copies every message it delivers."""
    return json.loads(json.dumps(value))


def _shallow(message: dict[str, Any]) -> dict[str, Any]:
    """A message as it appears inside another one (Telegram does not nest replies further)."""
    inner = copy.deepcopy(message)
    inner.pop("reply_to_message", None)
    return inner


class FakeTelegram(BaseSession):
    """Recording, stateful stand-in for the Bot API. See the module docstring."""

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
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, TelegramUser] = {}
        self._failures: list[_Failure] = []
        self._unknown_chats: set[int] = set()
        self._holds: dict[str, list[HeldCall]] = {}
        self._files: dict[str, _FileRecord] = {}
        self._file_contents: dict[str, bytes] = {}
        self._callback_queries: dict[str, bool] = {}
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._handlers: dict[str, Callable[[_Request], Any]] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "sendPhoto": self._media_sender("photo"),
            "sendDocument": self._media_sender("document"),
            "sendVideo": self._media_sender("video"),
            "sendAudio": self._media_sender("audio"),
            "sendVoice": self._media_sender("voice"),
            "sendAnimation": self._media_sender("animation"),
            "sendSticker": self._media_sender("sticker"),
            "sendVideoNote": self._media_sender("video_note"),
            "sendLocation": self._send_location,
            "sendVenue": self._send_venue,
            "sendContact": self._send_contact,
            "sendDice": self._send_dice,
            "sendMediaGroup": self._send_media_group,
            "copyMessage": self._copy_message,
            "copyMessages": self._copy_messages,
            "forwardMessage": self._forward_message,
            "forwardMessages": self._forward_messages,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendChatAction": self._send_chat_action,
            "pinChatMessage": self._pin_chat_message,
            "unpinChatMessage": self._unpin_chat_message,
            "createForumTopic": self._create_forum_topic,
            "editForumTopic": self._edit_forum_topic,
            "closeForumTopic": self._close_forum_topic,
            "reopenForumTopic": self._reopen_forum_topic,
            "deleteForumTopic": self._delete_forum_topic,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "getFile": self._get_file,
            "setWebhook": lambda req: True,
            "deleteWebhook": lambda req: True,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": lambda req: [],
        }
        for name in _ACKNOWLEDGED:
            self._handlers[name] = self._acknowledge

    # ===================================================================== BaseSession API

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        self.bot_id = bot.id
        self._last_bot = bot
        name = method.__api_method__
        files: dict[str, InputFile] = {}
        params = self._wire_params(bot, method, files)
        call = RecordedCall(name=name, params=params, method=method, files=files, timeout=timeout)
        self.calls.append(call)
        request = _Request(bot=bot, method=method, name=name, params=params, files=files)
        holds = self._holds.get(_normalise_method_name(name))
        if holds:
            held = holds.pop(0)
            held.called.set()
            await held.answer.wait()

        status, payload = 200, {"ok": True, "result": True}
        failure = self._take_failure(name, params)
        if failure is not None:
            call.injected = True
            if failure.network:
                error = TelegramNetworkError(method=method, message=failure.network_message)
                call.error = error
                raise error
            status = failure.error_code
            payload = ApiError(
                failure.error_code, failure.description, retry_after=failure.retry_after
            ).payload()
        else:
            handler = self._handlers.get(name)
            try:
                if handler is None:
                    payload = {"ok": True, "result": self._unknown_method(request, call)}
                else:
                    payload = {"ok": True, "result": handler(request)}
            except ApiError as api_error:
                status, payload = api_error.error_code, api_error.payload()
            except Exception as exc:
                call.error = exc
                raise

        call.raw_result = payload.get("result")
        try:
            response = self.check_response(
                bot=bot, method=method, status_code=status, content=json.dumps(payload)
            )
        except Exception as exc:
            call.error = exc
            raise
        call.result = response.result
        call._bot = bot
        call.delivered_raw = [_json_copy(raw) for raw in request.delivered]
        return cast(TelegramType, response.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Serves downloads of files the fake knows (see :meth:`set_file_content`)."""
        for path, content in self._file_contents.items():
            if url.endswith("/" + path):
                for start in range(0, len(content), chunk_size):
                    yield content[start : start + chunk_size]
                return
        raise FileNotFoundError(f"FakeTelegram has no file behind {url}")

    async def close(self) -> None:
        self.closed = True

    # ============================================================================ time

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

    # ===================================================================== configuration

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
            text = description or _DEFAULT_DESCRIPTIONS.get(code, f"Error {code}")
        for _ in range(times):
            self._failures.append(
                _Failure(
                    method=_normalise_method_name(method_name),
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
            _Failure(
                method=_normalise_method_name(method_name),
                chat_id=chat_id,
                error_code=error_code,
                description=description or _DEFAULT_DESCRIPTIONS.get(error_code, "Error"),
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
        self._holds.setdefault(_normalise_method_name(method_name), []).append(held)
        return held

    def create_topic(
        self, chat_id: int, name: str, *, icon_color: int = DEFAULT_TOPIC_COLOR
    ) -> int:
        """A topic created by someone else (e.g. staff in the app); returns its thread id."""
        chat = self._chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        return self._open_topic(chat, name, icon_color, None, creator=self.bot_user_api())

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Someone deleted a topic in the app; the bot finds out on its next send there."""
        chat = self._chat(chat_id)
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise KeyError(f"no topic {thread_id} in chat {chat_id}")
        self._remove_topic(chat, topic)

    def set_file_content(self, file_id: str, content: bytes) -> None:
        """Bytes ``bot.download(file_id)`` gets for a file (it also sets ``file_size``)."""
        record = self._file_record(file_id, "document")
        record.data["file_size"] = len(content)
        self._file_contents[self._file_path(record)] = content

    def clear(self) -> None:
        """Forget recorded calls (state such as chats, messages and topics is kept)."""
        self.calls.clear()
        self.unknown_methods.clear()

    # ================================================================== reading helpers

    def calls_of(self, *names: str) -> list[RecordedCall]:
        """Recorded calls of the given methods ("sendMessage" or "send_message"), in order."""
        wanted = {_normalise_method_name(name) for name in names}
        return [c for c in self.calls if _normalise_method_name(c.name) in wanted]

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
        return [_json_copy(chat.messages[key]) for key in sorted(chat.messages)]

    @staticmethod
    def inline_buttons(
        target: RecordedCall | Message | dict[str, Any] | None,
    ) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data or url or other payload) of an inline keyboard."""
        markup = FakeTelegram._markup_of(target)
        rows: list[list[tuple[str, str | None]]] = []
        for row in markup.get("inline_keyboard") or []:
            rows.append([(button["text"], FakeTelegram._button_payload(button)) for button in row])
        return rows

    @staticmethod
    def reply_buttons(target: RecordedCall | dict[str, Any] | None) -> list[list[str]]:
        """Rows of button texts of a reply keyboard (Telegram never echoes these back)."""
        markup = FakeTelegram._markup_of(target)
        return [
            [button if isinstance(button, str) else button["text"] for button in row]
            for row in markup.get("keyboard") or []
        ]

    @staticmethod
    def button_data(target: RecordedCall | Message | dict[str, Any] | None, text: str) -> str:
        """The callback_data (or url) of the inline button with this text."""
        rows = FakeTelegram.inline_buttons(target)
        for row in rows:
            for button_text, payload in row:
                if button_text == text and payload is not None:
                    return payload
        raise KeyError(f"no inline button {text!r}; buttons: {rows}")

    # ============================================ hooks used by a linked UpdateFactory

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
            self._files[item["file_id"]] = _FileRecord(
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

    # =============================================================== request plumbing

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

    def _take_failure(self, name: str, params: dict[str, Any]) -> _Failure | None:
        normalised = _normalise_method_name(name)
        chat_id = _as_int(params.get("chat_id"))
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

    def _unknown_method(self, request: _Request, call: RecordedCall) -> Any:
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
        as_int = _as_int(value)
        if as_int is not None:
            return as_int
        if isinstance(value, str):
            for chat in self._chats.values():
                if chat.username and f"@{chat.username}" == value:
                    return chat.id
        return None

    # ===================================================================== chat state

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                user = self._users.get(chat_id)
                chat = _Chat(
                    id=chat_id,
                    type="private",
                    first_name=user.first_name if user else "User",
                    last_name=user.last_name if user else None,
                    username=user.username if user else None,
                )
            else:
                chat = _Chat(
                    id=chat_id,
                    type="supergroup",
                    title=f"Chat {chat_id}",
                    is_forum=self.forums_by_default,
                )
            self._chats[chat_id] = chat
        return chat

    def _resolve_chat(self, value: Any) -> _Chat:
        as_int = _as_int(value)
        if as_int is not None:
            if as_int in self._unknown_chats:
                raise _bad_request(CHAT_NOT_FOUND)
            return self._chat(as_int)
        if isinstance(value, str):
            for chat in self._chats.values():
                if chat.username and f"@{chat.username}" == value:
                    return chat
        raise _bad_request(CHAT_NOT_FOUND)

    def _target_chat(self, request: _Request, key: str = "chat_id") -> _Chat:
        """The chat a call acts on; a blocked user or a kicked bot answers 403."""
        chat = self._resolve_chat(request.params.get(key))
        if chat.blocked:
            if chat.type == "private":
                raise ApiError(403, BLOCKED_BY_USER)
            where = "group chat" if chat.type == "group" else f"{chat.type} chat"
            raise ApiError(403, f"Forbidden: bot was kicked from the {where}")
        return chat

    def _check_thread(self, chat: _Chat, thread_id: Any) -> int | None:
        if thread_id is None:
            return None
        thread = int(thread_id)
        topic = chat.topics.get(thread)
        if chat.is_forum:
            if topic is None or topic.deleted:
                raise _bad_request(THREAD_NOT_FOUND)
            if topic.closed and not chat.bot_can_manage_topics:
                raise _bad_request("Bad Request: TOPIC_CLOSED")
            return thread
        if thread not in chat.messages:
            raise _bad_request(THREAD_NOT_FOUND)
        return thread

    def _is_gone(self, chat: _Chat, message_id: int) -> bool:
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

    def _store(self, chat: _Chat, message: dict[str, Any], request: _Request | None) -> None:
        chat.messages[message["message_id"]] = message
        if request is not None:
            request.delivered.append(message)

    # ================================================================= content builders

    def _format(self, text: str, parse_mode: Any, entities: Any) -> FormattedText:
        try:
            return format_text(text, parse_mode, entities)
        except EntityParseError as error:
            raise _bad_request(error.description) from error
        except UnsupportedParseMode as error:
            raise _bad_request("Bad Request: unsupported parse_mode") from error

    def _text_content(self, params: dict[str, Any]) -> dict[str, Any]:
        formatted = self._format(
            params.get("text", ""), params.get("parse_mode"), params.get("entities")
        )
        if not formatted.text:
            raise _bad_request("Bad Request: message text is empty")
        if len(formatted.text.encode("utf-16-le")) // 2 > MAX_TEXT_LENGTH:
            raise _bad_request("Bad Request: message is too long")
        content: dict[str, Any] = {"text": formatted.text}
        if formatted.entities:
            content["entities"] = formatted.entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return content

    def _caption_content(self, params: dict[str, Any]) -> dict[str, Any]:
        content: dict[str, Any] = {}
        caption = params.get("caption")
        if caption is not None:
            formatted = self._format(
                caption, params.get("parse_mode"), params.get("caption_entities")
            )
            if len(formatted.text.encode("utf-16-le")) // 2 > MAX_CAPTION_LENGTH:
                raise _bad_request("Bad Request: message caption is too long")
            if formatted.text:
                content["caption"] = formatted.text
                if formatted.entities:
                    content["caption_entities"] = formatted.entities
        if params.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        if params.get("has_spoiler"):
            content["has_media_spoiler"] = True
        return content

    def _inline_markup(self, markup: Any) -> dict[str, Any] | None:
        """Validate an inline keyboard like Telegram does; return what a Message echoes."""
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data")
                if data is not None and (
                    not data or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad_request("Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://\S+$", url):
                    raise _bad_request(
                        f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                        "Wrong HTTP URL"
                    )
                if self._button_payload(button) is None and not any(
                    button.get(key)
                    for key in ("pay", "callback_game", "switch_inline_query_chosen_chat")
                ):
                    raise _bad_request(
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
        return {"inline_keyboard": _json_copy(markup["inline_keyboard"])}

    def _file_record(self, file_id: str, kind: str) -> _FileRecord:
        record = self._files.get(file_id)
        if record is None:
            record = _FileRecord(
                kind=kind,
                data={"file_id": file_id, "file_unique_id": ids.unique_id_for(file_id)},
            )
            self._files[file_id] = record
        return record

    def _file_path(self, record: _FileRecord) -> str:
        if record.file_path is None:
            folder = {
                "photo": "photos",
                "voice": "voice",
                "video": "videos",
                "audio": "music",
                "animation": "animations",
                "sticker": "stickers",
                "video_note": "video_notes",
            }.get(record.kind, "documents")
            name = record.data.get("file_name") or ""
            suffix = ""
            if "." in name:
                suffix = "." + name.rsplit(".", 1)[1]
            elif record.kind == "photo":
                suffix = ".jpg"
            elif record.kind == "voice":
                suffix = ".oga"
            record.file_path = f"{folder}/file_{ids.next_number()}{suffix}"
        return record.file_path

    def _media_object(self, request: _Request, kind: str, value: Any, extra: dict[str, Any]) -> Any:
        """The Telegram object for sent media (PhotoSize list for photos)."""
        upload: InputFile | None = None
        url: str | None = None
        given_id: str | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = request.files.get(value[len("attach://") :])
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            url = value
        elif isinstance(value, str):
            given_id = value
        else:
            raise _bad_request("Bad Request: wrong file identifier/HTTP URL specified")

        known = self._files.get(given_id) if given_id else None
        if known is not None:
            if known.kind != kind and {known.kind, kind} != {"document", "animation"}:
                raise _bad_request("Bad Request: type of file mismatch")
            if kind == "photo":
                return copy.deepcopy(known.group or [known.data])
            return copy.deepcopy(known.data)

        file_name: str | None = None
        size: int | None = None
        if isinstance(upload, URLInputFile):
            url = upload.url
        if isinstance(upload, BufferedInputFile):
            file_name, size = upload.filename, len(upload.data)
        elif upload is not None and not isinstance(upload, URLInputFile):
            file_name = upload.filename
        elif url:
            file_name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
        if size is None:
            size = 24_000 + ids.next_number() % 1000

        if kind == "photo":
            sizes = []
            for index, (width, height) in enumerate(((90, 68), (320, 240), (1280, 960))):
                pair = ids.new_file_ids("photo")
                last = index == 2
                sizes.append(
                    {
                        "file_id": given_id if (given_id and last) else pair.file_id,
                        "file_unique_id": (
                            ids.unique_id_for(given_id)
                            if (given_id and last)
                            else pair.file_unique_id
                        ),
                        "file_size": size if last else max(size // (8 >> index), 1),
                        "width": width,
                        "height": height,
                    }
                )
            self.register_file("photo", sizes[-1], sizes=sizes)
            return sizes

        pair = ids.new_file_ids(kind)
        data: dict[str, Any] = {
            "file_id": given_id or pair.file_id,
            "file_unique_id": ids.unique_id_for(given_id) if given_id else pair.file_unique_id,
        }
        default_mime = {
            "video": "video/mp4",
            "audio": "audio/mpeg",
            "voice": "audio/ogg",
            "animation": "video/mp4",
        }
        if kind == "sticker":
            data.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
            if extra.get("emoji"):
                data["emoji"] = extra["emoji"]
        elif kind == "video_note":
            data.update(length=extra.get("length") or 240, duration=extra.get("duration") or 5)
        else:
            if kind in ("video", "animation"):
                data.update(
                    width=extra.get("width") or 1280,
                    height=extra.get("height") or 720,
                    duration=extra.get("duration") or 10,
                )
            elif kind in ("audio", "voice"):
                data["duration"] = extra.get("duration") or 7
                for key in ("performer", "title"):
                    if kind == "audio" and extra.get(key):
                        data[key] = extra[key]
            if file_name and kind != "voice":
                data["file_name"] = file_name
            mime = (mimetypes.guess_type(file_name)[0] if file_name else None) or default_mime.get(
                kind, "application/octet-stream"
            )
            data["mime_type"] = mime
        data["file_size"] = size
        self.register_file(kind, data)
        return data

    def _new_message(
        self,
        request: _Request,
        chat: _Chat,
        thread_id: int | None,
        *,
        content: dict[str, Any],
        reply_markup: dict[str, Any] | None,
        reply_to: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": chat.allocate(),
            "from": self._bot_user(request.bot),
            "chat": chat.api(),
            "date": unix_time(self.now()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.is_forum:
                message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = _shallow(reply_to)
        elif thread_id is not None and thread_id in chat.messages:
            # Telegram shows messages in a topic as replies to the topic's first message.
            message["reply_to_message"] = _shallow(chat.messages[thread_id])
        if request.params.get("protect_content"):
            message["has_protected_content"] = True
        message.update(content)
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        return message

    def _reply_target(self, chat: _Chat, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            target_chat = chat
            if reply.get("chat_id") is not None:
                target_chat = self._resolve_chat(reply["chat_id"])
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
            target_chat = chat
            allow_missing = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        message_id = int(cast(int, message_id))
        if self._is_gone(target_chat, message_id):
            if allow_missing:
                return None
            raise _bad_request("Bad Request: message to be replied not found")
        return target_chat.messages.get(message_id)

    def _deliver(self, request: _Request, content: dict[str, Any]) -> dict[str, Any]:
        """The common path of every send: checks, a new message, stored and returned."""
        reply_markup = self._inline_markup(request.params.get("reply_markup"))
        chat = self._target_chat(request)
        thread_id = self._check_thread(chat, request.params.get("message_thread_id"))
        reply_to = self._reply_target(chat, request.params)
        message = self._new_message(
            request,
            chat,
            thread_id,
            content=content,
            reply_markup=reply_markup,
            reply_to=reply_to,
        )
        self._store(chat, message, request)
        return message

    # ========================================================================= handlers

    def _acknowledge(self, request: _Request) -> bool:
        if "chat_id" in request.params:
            self._target_chat(request)
        return True

    def _get_me(self, request: _Request) -> dict[str, Any]:
        return {
            **self._bot_user(request.bot),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, request: _Request) -> dict[str, Any]:
        return self._deliver(request, self._text_content(request.params))

    def _media_sender(self, kind: str) -> Callable[[_Request], dict[str, Any]]:
        def send(request: _Request) -> dict[str, Any]:
            content = self._caption_content(request.params) if kind in _CAPTIONED_MEDIA else {}
            media = self._media_object(request, kind, request.params.get(kind), request.params)
            content[kind] = media
            if kind == "animation":
                content["document"] = {
                    key: media[key]
                    for key in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
                    if key in media
                }
            return self._deliver(request, content)

        return send

    def _send_location(self, request: _Request) -> dict[str, Any]:
        params = request.params
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if params.get(key) is not None:
                location[key] = params[key]
        return self._deliver(request, {"location": location})

    def _send_venue(self, request: _Request) -> dict[str, Any]:
        params = request.params
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        venue = {"location": location, "title": params["title"], "address": params["address"]}
        return self._deliver(request, {"venue": venue, "location": location})

    def _send_contact(self, request: _Request) -> dict[str, Any]:
        params = request.params
        contact = {"phone_number": params["phone_number"], "first_name": params["first_name"]}
        for key in ("last_name", "vcard"):
            if params.get(key):
                contact[key] = params[key]
        return self._deliver(request, {"contact": contact})

    def _send_dice(self, request: _Request) -> dict[str, Any]:
        emoji = request.params.get("emoji") or "🎲"
        return self._deliver(request, {"dice": {"emoji": emoji, "value": 4}})

    def _send_media_group(self, request: _Request) -> list[dict[str, Any]]:
        items = request.params.get("media") or []
        if not items:
            raise _bad_request("Bad Request: there are no messages to send")
        if len(items) > 10:
            raise _bad_request("Bad Request: too many messages to send as an album")
        contents = []
        for item in items:
            kind = item["type"]
            content = self._caption_content(item)
            content[kind] = self._media_object(request, kind, item.get("media"), item)
            contents.append(content)
        chat = self._target_chat(request)
        thread_id = self._check_thread(chat, request.params.get("message_thread_id"))
        reply_to = self._reply_target(chat, request.params)
        group_id = ids.new_media_group_id()
        messages = []
        for content in contents:
            message = self._new_message(
                request, chat, thread_id, content=content, reply_markup=None, reply_to=reply_to
            )
            message["media_group_id"] = group_id
            self._store(chat, message, request)
            messages.append(message)
        return messages

    def _source_message(
        self, request: _Request, message_id: int, verb: str
    ) -> tuple[_Chat, dict[str, Any] | None]:
        source_chat = self._resolve_chat(request.params.get("from_chat_id"))
        if self._is_gone(source_chat, message_id):
            raise _bad_request(f"Bad Request: message to {verb} not found")
        source = source_chat.messages.get(message_id)
        if source is not None and any(key in source for key in _SERVICE_FIELDS):
            done = {"copy": "copied", "forward": "forwarded"}[verb]
            raise _bad_request(f"Bad Request: message can't be {done}")
        return source_chat, source

    def _copied_content(
        self, source: dict[str, Any] | None, params: dict[str, Any], remove_caption: bool
    ) -> dict[str, Any]:
        content = {k: copy.deepcopy(source[k]) for k in _CONTENT_FIELDS if source and k in source}
        has_media = any(kind in content for kind in _CAPTIONED_MEDIA)
        if has_media and (remove_caption or "caption" in params):
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if "caption" in params and not remove_caption:
                content.update(self._caption_content(params))
        return content

    def _copy_message(self, request: _Request) -> dict[str, Any]:
        _, source = self._source_message(request, int(request.params["message_id"]), "copy")
        content = self._copied_content(source, request.params, remove_caption=False)
        message = self._deliver(request, content)
        return {"message_id": message["message_id"]}

    def _copy_messages(self, request: _Request) -> list[dict[str, Any]]:
        source_chat = self._resolve_chat(request.params.get("from_chat_id"))
        chat = self._target_chat(request)
        thread_id = self._check_thread(chat, request.params.get("message_thread_id"))
        result = []
        for message_id in request.params.get("message_ids") or []:
            if self._is_gone(source_chat, message_id):
                continue
            source = source_chat.messages.get(message_id)
            content = self._copied_content(
                source, {}, remove_caption=bool(request.params.get("remove_caption"))
            )
            message = self._new_message(
                request, chat, thread_id, content=content, reply_markup=None, reply_to=None
            )
            self._store(chat, message, request)
            result.append({"message_id": message["message_id"]})
        return result

    def _forward_origin(self, source_chat: _Chat, source: dict[str, Any] | None) -> dict[str, Any]:
        if source is None:
            return {
                "type": "hidden_user",
                "sender_user_name": "Unknown",
                "date": unix_time(self.now()),
            }
        if "forward_origin" in source:
            return copy.deepcopy(source["forward_origin"])
        if source_chat.type == "channel":
            return {
                "type": "channel",
                "chat": source_chat.api(),
                "message_id": source["message_id"],
                "date": source["date"],
            }
        return {"type": "user", "sender_user": source["from"], "date": source["date"]}

    def _forward_message(self, request: _Request) -> dict[str, Any]:
        source_chat, source = self._source_message(
            request, int(request.params["message_id"]), "forward"
        )
        content = self._copied_content(source, {}, remove_caption=False)
        content["forward_origin"] = self._forward_origin(source_chat, source)
        return self._deliver(request, content)

    def _forward_messages(self, request: _Request) -> list[dict[str, Any]]:
        source_chat = self._resolve_chat(request.params.get("from_chat_id"))
        chat = self._target_chat(request)
        thread_id = self._check_thread(chat, request.params.get("message_thread_id"))
        result = []
        for message_id in request.params.get("message_ids") or []:
            if self._is_gone(source_chat, message_id):
                continue
            source = source_chat.messages.get(message_id)
            content = self._copied_content(source, {}, remove_caption=False)
            content["forward_origin"] = self._forward_origin(source_chat, source)
            message = self._new_message(
                request, chat, thread_id, content=content, reply_markup=None, reply_to=None
            )
            self._store(chat, message, request)
            result.append({"message_id": message["message_id"]})
        return result

    def _editable(self, request: _Request) -> dict[str, Any] | None:
        """The bot's own message an edit targets; None for inline messages."""
        if request.params.get("inline_message_id"):
            return None
        chat = self._target_chat(request)
        message = chat.messages.get(int(request.params.get("message_id") or 0))
        if message is None:
            raise _bad_request(MESSAGE_TO_EDIT_NOT_FOUND)
        if message.get("from", {}).get("id") != request.bot.id or any(
            key in message for key in _SERVICE_FIELDS
        ):
            raise _bad_request("Bad Request: message can't be edited")
        return message

    def _apply_edit(
        self, message: dict[str, Any], changes: dict[str, Any], request: _Request
    ) -> dict[str, Any]:
        if all(message.get(key) == value for key, value in changes.items()):
            raise _bad_request(MESSAGE_NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = unix_time(self.now())
        return copy.deepcopy(message)

    def _edit_message_text(self, request: _Request) -> dict[str, Any] | bool:
        content = self._text_content(request.params)
        markup = self._inline_markup(request.params.get("reply_markup"))
        message = self._editable(request)
        if message is None:
            return True
        if "text" not in message:
            raise _bad_request("Bad Request: there is no text in the message to edit")
        changes = {
            "text": content["text"],
            "entities": content.get("entities"),
            "reply_markup": markup,
        }
        return self._apply_edit(message, changes, request)

    def _edit_message_caption(self, request: _Request) -> dict[str, Any] | bool:
        content = self._caption_content(request.params)
        markup = self._inline_markup(request.params.get("reply_markup"))
        message = self._editable(request)
        if message is None:
            return True
        if not any(kind in message for kind in _CAPTIONED_MEDIA):
            raise _bad_request("Bad Request: there is no caption in the message to edit")
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
            "reply_markup": markup,
        }
        return self._apply_edit(message, changes, request)

    def _edit_message_reply_markup(self, request: _Request) -> dict[str, Any] | bool:
        markup = self._inline_markup(request.params.get("reply_markup"))
        message = self._editable(request)
        if message is None:
            return True
        return self._apply_edit(message, {"reply_markup": markup}, request)

    def _delete_message(self, request: _Request) -> bool:
        chat = self._target_chat(request)
        message_id = int(request.params["message_id"])
        if self._is_gone(chat, message_id):
            raise _bad_request("Bad Request: message to delete not found")
        chat.messages.pop(message_id, None)
        chat.deleted.add(message_id)
        return True

    def _delete_messages(self, request: _Request) -> bool:
        chat = self._target_chat(request)
        for message_id in request.params.get("message_ids") or []:
            chat.messages.pop(message_id, None)
            chat.deleted.add(message_id)
        return True

    def _answer_callback_query(self, request: _Request) -> bool:
        text = request.params.get("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("Bad Request: MESSAGE_TOO_LONG")
        query_id = str(request.params["callback_query_id"])
        answered = self._callback_queries.get(query_id)
        if answered or (answered is None and self.strict_messages):
            raise _bad_request(QUERY_TOO_OLD)
        self._callback_queries[query_id] = True
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _set_my_commands(self, request: _Request) -> bool:
        self._commands[self._commands_key(request.params)] = request.params["commands"]
        return True

    def _delete_my_commands(self, request: _Request) -> bool:
        self._commands.pop(self._commands_key(request.params), None)
        return True

    def _get_my_commands(self, request: _Request) -> list[dict[str, Any]]:
        return self._commands.get(self._commands_key(request.params), [])

    def _set_chat_menu_button(self, request: _Request) -> bool:
        chat_id = _as_int(request.params.get("chat_id"))
        self._menu_buttons[chat_id] = request.params.get("menu_button") or {"type": "default"}
        return True

    def _get_chat_menu_button(self, request: _Request) -> dict[str, Any]:
        chat_id = _as_int(request.params.get("chat_id"))
        return (
            self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "commands"}
        )

    def _send_chat_action(self, request: _Request) -> bool:
        # Telegram does not check the topic here: a deleted topic still answers True.
        self._target_chat(request)
        return True

    def _pin_chat_message(self, request: _Request) -> bool:
        chat = self._target_chat(request)
        message_id = int(request.params["message_id"])
        if self._is_gone(chat, message_id):
            raise _bad_request("Bad Request: message to pin not found")
        if chat.type != "private" and not chat.bot_is_admin:
            raise _bad_request(
                "Bad Request: not enough rights to manage pinned messages in the chat"
            )
        if message_id not in chat.pinned:
            chat.pinned.append(message_id)
        return True

    def _unpin_chat_message(self, request: _Request) -> bool:
        chat = self._target_chat(request)
        message_id = request.params.get("message_id")
        if message_id is None:
            if chat.pinned:
                chat.pinned.pop()
        elif int(message_id) in chat.pinned:
            chat.pinned.remove(int(message_id))
        return True

    # ------------------------------------------------------------------------ forum topics

    def _open_topic(
        self,
        chat: _Chat,
        name: str,
        icon_color: int,
        icon_custom_emoji_id: str | None,
        *,
        creator: dict[str, Any],
    ) -> int:
        thread_id = chat.allocate()
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        chat.messages[thread_id] = {
            "message_id": thread_id,
            "from": creator,
            "chat": chat.api(),
            "date": unix_time(self.now()),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": created,
        }
        chat.topics[thread_id] = _Topic(
            thread_id=thread_id,
            name=name,
            icon_color=icon_color,
            icon_custom_emoji_id=icon_custom_emoji_id,
        )
        return thread_id

    def _remove_topic(self, chat: _Chat, topic: _Topic) -> None:
        topic.deleted = True
        for message_id, message in list(chat.messages.items()):
            if message.get("message_thread_id") == topic.thread_id:
                del chat.messages[message_id]
                chat.deleted.add(message_id)

    def _forum_chat(self, request: _Request) -> _Chat:
        chat = self._target_chat(request)
        if chat.type != "supergroup" or not chat.is_forum:
            raise _bad_request(CHAT_NOT_FORUM)
        return chat

    def _live_topic(self, chat: _Chat, thread_id: Any) -> _Topic:
        topic = chat.topics.get(int(thread_id))
        if topic is None or topic.deleted:
            raise _bad_request("Bad Request: TOPIC_ID_INVALID")
        return topic

    def _create_forum_topic(self, request: _Request) -> dict[str, Any]:
        chat = self._forum_chat(request)
        if not chat.bot_can_manage_topics:
            raise _bad_request("Bad Request: not enough rights to create a topic")
        name = str(request.params.get("name") or "")
        if not name.strip():
            raise _bad_request("Bad Request: TOPIC_TITLE_EMPTY")
        if len(name) > MAX_TOPIC_NAME_LENGTH:
            raise _bad_request("Bad Request: TOPIC_TITLE_TOO_LONG")
        color = int(request.params.get("icon_color") or DEFAULT_TOPIC_COLOR)
        emoji = request.params.get("icon_custom_emoji_id")
        thread_id = self._open_topic(chat, name, color, emoji, creator=self._bot_user(request.bot))
        topic: dict[str, Any] = {"message_thread_id": thread_id, "name": name, "icon_color": color}
        if emoji:
            topic["icon_custom_emoji_id"] = emoji
        return topic

    def _edit_forum_topic(self, request: _Request) -> bool:
        chat = self._forum_chat(request)
        topic = self._live_topic(chat, request.params["message_thread_id"])
        name = request.params.get("name")
        emoji = request.params.get("icon_custom_emoji_id")
        if name is not None and len(name) > MAX_TOPIC_NAME_LENGTH:
            raise _bad_request("Bad Request: TOPIC_TITLE_TOO_LONG")
        if (name is None or name == topic.name) and (
            emoji is None or emoji == topic.icon_custom_emoji_id
        ):
            raise _bad_request("Bad Request: TOPIC_NOT_MODIFIED")
        if name is not None:
            topic.name = name
        if emoji is not None:
            topic.icon_custom_emoji_id = emoji or None
        return True

    def _close_forum_topic(self, request: _Request) -> bool:
        chat = self._forum_chat(request)
        topic = self._live_topic(chat, request.params["message_thread_id"])
        if topic.closed:
            raise _bad_request("Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    def _reopen_forum_topic(self, request: _Request) -> bool:
        chat = self._forum_chat(request)
        topic = self._live_topic(chat, request.params["message_thread_id"])
        if not topic.closed:
            raise _bad_request("Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    def _delete_forum_topic(self, request: _Request) -> bool:
        chat = self._forum_chat(request)
        topic = self._live_topic(chat, request.params["message_thread_id"])
        self._remove_topic(chat, topic)
        return True

    # ---------------------------------------------------------------------- chats, members

    def _get_chat(self, request: _Request) -> dict[str, Any]:
        chat = self._resolve_chat(request.params.get("chat_id"))
        info = chat.api()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        if chat.pinned and chat.pinned[-1] in chat.messages:
            info["pinned_message"] = _shallow(chat.messages[chat.pinned[-1]])
        return info

    def _member(self, chat: _Chat, user_id: int) -> dict[str, Any]:
        user = self._user_api(user_id)
        if chat.type == "private":
            return {"status": "member", "user": user}
        if self.bot_id is not None and user_id == self.bot_id:
            if chat.blocked:
                return {"status": "kicked", "user": user, "until_date": 0}
            if chat.bot_is_admin:
                return self._administrator(user, can_manage_topics=chat.bot_can_manage_topics)
            return {"status": "member", "user": user}
        if user_id == chat.creator_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admins:
            return self._administrator(user, can_manage_topics=True)
        status = chat.member_status.get(user_id, "member")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "kicked":
            member["until_date"] = 0
        return member

    @staticmethod
    def _administrator(user: dict[str, Any], *, can_manage_topics: bool) -> dict[str, Any]:
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": True,
            "can_edit_stories": True,
            "can_delete_stories": True,
            "can_send_welcome_messages": True,
            "can_pin_messages": True,
            "can_manage_topics": can_manage_topics,
        }

    def _get_chat_member(self, request: _Request) -> dict[str, Any]:
        chat = self._resolve_chat(request.params.get("chat_id"))
        return self._member(chat, int(request.params["user_id"]))

    def _get_chat_administrators(self, request: _Request) -> list[dict[str, Any]]:
        chat = self._resolve_chat(request.params.get("chat_id"))
        if chat.type == "private":
            raise _bad_request("Bad Request: there are no administrators in the private chat")
        members = [self._member(chat, user_id) for user_id in chat.admins]
        if chat.bot_is_admin and not chat.blocked:
            self._bot_user(request.bot)
            members.append(self._member(chat, request.bot.id))
        return members

    def _get_chat_member_count(self, request: _Request) -> int:
        chat = self._resolve_chat(request.params.get("chat_id"))
        if chat.type == "private":
            return 2
        members = {*chat.admins, *chat.member_status}
        return max(len(members) + 1, 2)

    # ------------------------------------------------------------------------------ files

    def _get_file(self, request: _Request) -> dict[str, Any]:
        file_id = str(request.params["file_id"])
        record = self._file_record(file_id, "document")
        size = record.data.get("file_size")
        if size is not None and size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("Bad Request: file is too big")
        path = self._file_path(record)
        self._file_contents.setdefault(path, f"content of {file_id}".encode())
        result = {
            "file_id": file_id,
            "file_unique_id": record.data["file_unique_id"],
            "file_path": path,
        }
        if size is not None:
            result["file_size"] = size
        return result

    def _get_webhook_info(self, request: _Request) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    # --------------------------------------------------------------------------- keyboards

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
