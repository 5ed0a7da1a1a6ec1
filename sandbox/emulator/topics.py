"""Forum topics: created, renamed, closed, reopened and deleted, each with its service message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .api_errors import (
    CHAT_NOT_FORUM,
    DEFAULT_TOPIC_COLOR,
    MAX_TOPIC_NAME_LENGTH,
    bad_request,
)
from .core import EmulatorCore
from .state import (
    ChatState,
    Request,
    TopicState,
)
from .users import unix_time

if TYPE_CHECKING:
    pass


class TopicMethods(EmulatorCore):
    """create/edit/close/reopen/deleteForumTopic, and topics made by others in a test."""

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

    def _open_topic(
        self,
        chat: ChatState,
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
        chat.topics[thread_id] = TopicState(
            thread_id=thread_id,
            name=name,
            icon_color=icon_color,
            icon_custom_emoji_id=icon_custom_emoji_id,
        )
        return thread_id

    def _remove_topic(self, chat: ChatState, topic: TopicState) -> None:
        topic.deleted = True
        for message_id, message in list(chat.messages.items()):
            if message.get("message_thread_id") == topic.thread_id:
                del chat.messages[message_id]
                chat.deleted.add(message_id)

    def _forum_chat(self, request: Request) -> ChatState:
        chat = self._target_chat(request)
        if chat.type != "supergroup" or not chat.is_forum:
            raise bad_request(CHAT_NOT_FORUM)
        return chat

    def _live_topic(self, chat: ChatState, thread_id: Any) -> TopicState:
        topic = chat.topics.get(int(thread_id))
        if topic is None or topic.deleted:
            raise bad_request("Bad Request: TOPIC_ID_INVALID")
        return topic

    def _create_forum_topic(self, request: Request) -> dict[str, Any]:
        chat = self._forum_chat(request)
        if not chat.bot_can_manage_topics:
            raise bad_request("Bad Request: not enough rights to create a topic")
        name = str(request.params.get("name") or "")
        if not name.strip():
            raise bad_request("Bad Request: TOPIC_TITLE_EMPTY")
        if len(name) > MAX_TOPIC_NAME_LENGTH:
            raise bad_request("Bad Request: TOPIC_TITLE_TOO_LONG")
        color = int(request.params.get("icon_color") or DEFAULT_TOPIC_COLOR)
        emoji = request.params.get("icon_custom_emoji_id")
        thread_id = self._open_topic(chat, name, color, emoji, creator=self._bot_user(request.bot))
        topic: dict[str, Any] = {"message_thread_id": thread_id, "name": name, "icon_color": color}
        if emoji:
            topic["icon_custom_emoji_id"] = emoji
        return topic

    def _edit_forum_topic(self, request: Request) -> bool:
        chat = self._forum_chat(request)
        topic = self._live_topic(chat, request.params["message_thread_id"])
        name = request.params.get("name")
        emoji = request.params.get("icon_custom_emoji_id")
        if name is not None and len(name) > MAX_TOPIC_NAME_LENGTH:
            raise bad_request("Bad Request: TOPIC_TITLE_TOO_LONG")
        if (name is None or name == topic.name) and (
            emoji is None or emoji == topic.icon_custom_emoji_id
        ):
            raise bad_request("Bad Request: TOPIC_NOT_MODIFIED")
        if name is not None:
            topic.name = name
        if emoji is not None:
            topic.icon_custom_emoji_id = emoji or None
        return True

    def _close_forum_topic(self, request: Request) -> bool:
        chat = self._forum_chat(request)
        topic = self._live_topic(chat, request.params["message_thread_id"])
        if topic.closed:
            raise bad_request("Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    def _reopen_forum_topic(self, request: Request) -> bool:
        chat = self._forum_chat(request)
        topic = self._live_topic(chat, request.params["message_thread_id"])
        if not topic.closed:
            raise bad_request("Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    def _delete_forum_topic(self, request: Request) -> bool:
        chat = self._forum_chat(request)
        topic = self._live_topic(chat, request.params["message_thread_id"])
        self._remove_topic(chat, topic)
        return True
