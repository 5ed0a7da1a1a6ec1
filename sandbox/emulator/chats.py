"""Chats and the bot's place in them: members and admins, callback answers, command menus,
pins and the other calls that only acknowledge."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .api_errors import (
    MAX_CALLBACK_ANSWER_LENGTH,
    QUERY_TOO_OLD,
    bad_request,
)
from .core import EmulatorCore
from .state import (
    ChatState,
    Request,
    as_int,
    shallow,
)

if TYPE_CHECKING:
    pass


class ChatMethods(EmulatorCore):
    """getChat*, answerCallbackQuery, *MyCommands, menu button, pins, chat actions."""

    def _acknowledge(self, request: Request) -> bool:
        if "chat_id" in request.params:
            self._target_chat(request)
        return True

    def _get_me(self, request: Request) -> dict[str, Any]:
        return {
            **self._bot_user(request.bot),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _answer_callback_query(self, request: Request) -> bool:
        text = request.params.get("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("Bad Request: MESSAGE_TOO_LONG")
        query_id = str(request.params["callback_query_id"])
        answered = self._callback_queries.get(query_id)
        if answered or (answered is None and self.strict_messages):
            raise bad_request(QUERY_TOO_OLD)
        self._callback_queries[query_id] = True
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _set_my_commands(self, request: Request) -> bool:
        self._commands[self._commands_key(request.params)] = request.params["commands"]
        return True

    def _delete_my_commands(self, request: Request) -> bool:
        self._commands.pop(self._commands_key(request.params), None)
        return True

    def _get_my_commands(self, request: Request) -> list[dict[str, Any]]:
        return self._commands.get(self._commands_key(request.params), [])

    def _set_chat_menu_button(self, request: Request) -> bool:
        chat_id = as_int(request.params.get("chat_id"))
        self._menu_buttons[chat_id] = request.params.get("menu_button") or {"type": "default"}
        return True

    def _get_chat_menu_button(self, request: Request) -> dict[str, Any]:
        chat_id = as_int(request.params.get("chat_id"))
        return (
            self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "commands"}
        )

    def _send_chat_action(self, request: Request) -> bool:
        # Telegram does not check the topic here: a deleted topic still answers True.
        self._target_chat(request)
        return True

    def _pin_chat_message(self, request: Request) -> bool:
        chat = self._target_chat(request)
        message_id = int(request.params["message_id"])
        if self._is_gone(chat, message_id):
            raise bad_request("Bad Request: message to pin not found")
        if chat.type != "private" and not chat.bot_is_admin:
            raise bad_request(
                "Bad Request: not enough rights to manage pinned messages in the chat"
            )
        if message_id not in chat.pinned:
            chat.pinned.append(message_id)
        return True

    def _unpin_chat_message(self, request: Request) -> bool:
        chat = self._target_chat(request)
        message_id = request.params.get("message_id")
        if message_id is None:
            if chat.pinned:
                chat.pinned.pop()
        elif int(message_id) in chat.pinned:
            chat.pinned.remove(int(message_id))
        return True

    def _get_chat(self, request: Request) -> dict[str, Any]:
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
            info["pinned_message"] = shallow(chat.messages[chat.pinned[-1]])
        return info

    def _member(self, chat: ChatState, user_id: int) -> dict[str, Any]:
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

    def _get_chat_member(self, request: Request) -> dict[str, Any]:
        chat = self._resolve_chat(request.params.get("chat_id"))
        return self._member(chat, int(request.params["user_id"]))

    def _get_chat_administrators(self, request: Request) -> list[dict[str, Any]]:
        chat = self._resolve_chat(request.params.get("chat_id"))
        if chat.type == "private":
            raise bad_request("Bad Request: there are no administrators in the private chat")
        members = [self._member(chat, user_id) for user_id in chat.admins]
        if chat.bot_is_admin and not chat.blocked:
            self._bot_user(request.bot)
            members.append(self._member(chat, request.bot.id))
        return members

    def _get_chat_member_count(self, request: Request) -> int:
        chat = self._resolve_chat(request.params.get("chat_id"))
        if chat.type == "private":
            return 2
        members = {*chat.admins, *chat.member_status}
        return max(len(members) + 1, 2)

    def _get_webhook_info(self, request: Request) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
