"""Messages: send, copy, forward, edit and delete, with Telegram's refusals."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .api_errors import (
    MESSAGE_NOT_MODIFIED,
    MESSAGE_TO_EDIT_NOT_FOUND,
    bad_request,
)
from .outgoing import OutgoingMessages
from .state import (
    CAPTIONED_MEDIA,
    CONTENT_FIELDS,
    SERVICE_FIELDS,
    ChatState,
    Request,
)
from .users import unix_time

if TYPE_CHECKING:
    pass


class MessageMethods(OutgoingMessages):
    """sendMessage and the other non-media sends, copy*, forward*, edit*, delete*."""

    def _send_message(self, request: Request) -> dict[str, Any]:
        return self._deliver(request, self._text_content(request.params))

    def _send_location(self, request: Request) -> dict[str, Any]:
        params = request.params
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if params.get(key) is not None:
                location[key] = params[key]
        return self._deliver(request, {"location": location})

    def _send_venue(self, request: Request) -> dict[str, Any]:
        params = request.params
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        venue = {"location": location, "title": params["title"], "address": params["address"]}
        return self._deliver(request, {"venue": venue, "location": location})

    def _send_contact(self, request: Request) -> dict[str, Any]:
        params = request.params
        contact = {"phone_number": params["phone_number"], "first_name": params["first_name"]}
        for key in ("last_name", "vcard"):
            if params.get(key):
                contact[key] = params[key]
        return self._deliver(request, {"contact": contact})

    def _send_dice(self, request: Request) -> dict[str, Any]:
        emoji = request.params.get("emoji") or "🎲"
        return self._deliver(request, {"dice": {"emoji": emoji, "value": 4}})

    def _source_message(
        self, request: Request, message_id: int, verb: str
    ) -> tuple[ChatState, dict[str, Any] | None]:
        source_chat = self._resolve_chat(request.params.get("from_chat_id"))
        if self._is_gone(source_chat, message_id):
            raise bad_request(f"Bad Request: message to {verb} not found")
        source = source_chat.messages.get(message_id)
        if source is not None and any(key in source for key in SERVICE_FIELDS):
            done = {"copy": "copied", "forward": "forwarded"}[verb]
            raise bad_request(f"Bad Request: message can't be {done}")
        return source_chat, source

    def _copied_content(
        self, source: dict[str, Any] | None, params: dict[str, Any], remove_caption: bool
    ) -> dict[str, Any]:
        content = {k: copy.deepcopy(source[k]) for k in CONTENT_FIELDS if source and k in source}
        has_media = any(kind in content for kind in CAPTIONED_MEDIA)
        if has_media and (remove_caption or "caption" in params):
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if "caption" in params and not remove_caption:
                content.update(self._caption_content(params))
        return content

    def _copy_message(self, request: Request) -> dict[str, Any]:
        _, source = self._source_message(request, int(request.params["message_id"]), "copy")
        content = self._copied_content(source, request.params, remove_caption=False)
        message = self._deliver(request, content)
        return {"message_id": message["message_id"]}

    def _copy_messages(self, request: Request) -> list[dict[str, Any]]:
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

    def _forward_origin(
        self, source_chat: ChatState, source: dict[str, Any] | None
    ) -> dict[str, Any]:
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

    def _forward_message(self, request: Request) -> dict[str, Any]:
        source_chat, source = self._source_message(
            request, int(request.params["message_id"]), "forward"
        )
        content = self._copied_content(source, {}, remove_caption=False)
        content["forward_origin"] = self._forward_origin(source_chat, source)
        return self._deliver(request, content)

    def _forward_messages(self, request: Request) -> list[dict[str, Any]]:
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

    def _editable(self, request: Request) -> dict[str, Any] | None:
        """The bot's own message an edit targets; None for inline messages."""
        if request.params.get("inline_message_id"):
            return None
        chat = self._target_chat(request)
        message = chat.messages.get(int(request.params.get("message_id") or 0))
        if message is None:
            raise bad_request(MESSAGE_TO_EDIT_NOT_FOUND)
        if message.get("from", {}).get("id") != request.bot.id or any(
            key in message for key in SERVICE_FIELDS
        ):
            raise bad_request("Bad Request: message can't be edited")
        return message

    def _apply_edit(
        self, message: dict[str, Any], changes: dict[str, Any], request: Request
    ) -> dict[str, Any]:
        if all(message.get(key) == value for key, value in changes.items()):
            raise bad_request(MESSAGE_NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = unix_time(self.now())
        return copy.deepcopy(message)

    def _edit_message_text(self, request: Request) -> dict[str, Any] | bool:
        content = self._text_content(request.params)
        markup = self._inline_markup(request.params.get("reply_markup"))
        message = self._editable(request)
        if message is None:
            return True
        if "text" not in message:
            raise bad_request("Bad Request: there is no text in the message to edit")
        changes = {
            "text": content["text"],
            "entities": content.get("entities"),
            "reply_markup": markup,
        }
        return self._apply_edit(message, changes, request)

    def _edit_message_caption(self, request: Request) -> dict[str, Any] | bool:
        content = self._caption_content(request.params)
        markup = self._inline_markup(request.params.get("reply_markup"))
        message = self._editable(request)
        if message is None:
            return True
        if not any(kind in message for kind in CAPTIONED_MEDIA):
            raise bad_request("Bad Request: there is no caption in the message to edit")
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
            "reply_markup": markup,
        }
        return self._apply_edit(message, changes, request)

    def _edit_message_reply_markup(self, request: Request) -> dict[str, Any] | bool:
        markup = self._inline_markup(request.params.get("reply_markup"))
        message = self._editable(request)
        if message is None:
            return True
        return self._apply_edit(message, {"reply_markup": markup}, request)

    def _delete_message(self, request: Request) -> bool:
        chat = self._target_chat(request)
        message_id = int(request.params["message_id"])
        if self._is_gone(chat, message_id):
            raise bad_request("Bad Request: message to delete not found")
        chat.messages.pop(message_id, None)
        chat.deleted.add(message_id)
        return True

    def _delete_messages(self, request: Request) -> bool:
        chat = self._target_chat(request)
        for message_id in request.params.get("message_ids") or []:
            chat.messages.pop(message_id, None)
            chat.deleted.add(message_id)
        return True
