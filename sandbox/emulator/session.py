"""A Bot API session that records every call and answers the way Telegram does, offline.

``Bot(token="42:TEST", session=FakeTelegram())`` makes a bot whose every API call lands here.
Each call is recorded (:class:`RecordedCall`), answered with a realistic raw JSON result built
from the fake's state (chats, messages, topics, files, admins), and that JSON goes through
aiogram's own ``BaseSession.check_response``: results are parsed and typed exactly like real
ones and errors become aiogram's real exceptions (``TelegramBadRequest``,
``TelegramForbiddenError``, ``TelegramRetryAfter`` ...) with Telegram's wording.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, cast

from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

from .api_errors import ApiError
from .chats import ChatMethods
from .controls import TestControls
from .media import MediaMethods
from .messages import MessageMethods
from .records import MESSAGE_METHODS, HeldCall, RecordedCall
from .state import Request, json_copy, normalise_method_name
from .topics import TopicMethods

if TYPE_CHECKING:
    from aiogram import Bot

__all__ = ["MESSAGE_METHODS", "ApiError", "FakeTelegram", "HeldCall", "RecordedCall"]

# Methods the fake knows and simply acknowledges with True (after the usual chat checks).
ACKNOWLEDGED = frozenset(
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


class FakeTelegram(TestControls, MessageMethods, MediaMethods, TopicMethods, ChatMethods):
    """Recording, stateful stand-in for the Bot API. See the module docstring."""

    def _handler_table(self) -> dict[str, Callable[[Request], Any]]:
        handlers: dict[str, Callable[[Request], Any]] = {
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
        for name in ACKNOWLEDGED:
            handlers[name] = self._acknowledge
        return handlers

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
        request = Request(bot=bot, method=method, name=name, params=params, files=files)
        holds = self._holds.get(normalise_method_name(name))
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
        call.delivered_raw = [json_copy(raw) for raw in request.delivered]
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
