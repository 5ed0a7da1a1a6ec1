"""What every sent message goes through: text and caption parsed and checked against
Telegram's limits, the inline keyboard validated, the reply target found, the message stored."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from .api_errors import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    bad_request,
)
from .core import EmulatorCore
from .formatting import EntityParseError, FormattedText, UnsupportedParseMode, format_text
from .state import (
    ChatState,
    Request,
    json_copy,
    shallow,
)
from .users import unix_time

if TYPE_CHECKING:
    pass


class OutgoingMessages(EmulatorCore):
    """The common path of every send."""

    def _format(self, text: str, parse_mode: Any, entities: Any) -> FormattedText:
        try:
            return format_text(text, parse_mode, entities)
        except EntityParseError as error:
            raise bad_request(error.description) from error
        except UnsupportedParseMode as error:
            raise bad_request("Bad Request: unsupported parse_mode") from error

    def _text_content(self, params: dict[str, Any]) -> dict[str, Any]:
        formatted = self._format(
            params.get("text", ""), params.get("parse_mode"), params.get("entities")
        )
        if not formatted.text:
            raise bad_request("Bad Request: message text is empty")
        if len(formatted.text.encode("utf-16-le")) // 2 > MAX_TEXT_LENGTH:
            raise bad_request("Bad Request: message is too long")
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
                raise bad_request("Bad Request: message caption is too long")
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
                    raise bad_request("Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://\S+$", url):
                    raise bad_request(
                        f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                        "Wrong HTTP URL"
                    )
                if self._button_payload(button) is None and not any(
                    button.get(key)
                    for key in ("pay", "callback_game", "switch_inline_query_chosen_chat")
                ):
                    raise bad_request(
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
        return {"inline_keyboard": json_copy(markup["inline_keyboard"])}

    def _new_message(
        self,
        request: Request,
        chat: ChatState,
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
            message["reply_to_message"] = shallow(reply_to)
        elif thread_id is not None and thread_id in chat.messages:
            # Telegram shows messages in a topic as replies to the topic's first message.
            message["reply_to_message"] = shallow(chat.messages[thread_id])
        if request.params.get("protect_content"):
            message["has_protected_content"] = True
        message.update(content)
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        return message

    def _reply_target(self, chat: ChatState, params: dict[str, Any]) -> dict[str, Any] | None:
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
            raise bad_request("Bad Request: message to be replied not found")
        return target_chat.messages.get(message_id)

    def _deliver(self, request: Request, content: dict[str, Any]) -> dict[str, Any]:
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
