"""The emulated Telegram's state: chats with their messages and topics, files, the
call being answered, planned failures; and the shapes messages travel in."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram.methods import TelegramMethod
from aiogram.types import InputFile

if TYPE_CHECKING:
    from aiogram import Bot


# Content fields that travel with a copied or forwarded message.
CONTENT_FIELDS = (
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
CAPTIONED_MEDIA = ("photo", "video", "document", "audio", "animation", "voice")
SERVICE_FIELDS = ("forum_topic_created", "forum_topic_closed", "forum_topic_reopened")


@dataclass
class Failure:
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
class TopicState:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False


@dataclass
class FileRecord:
    kind: str
    data: dict[str, Any]
    group: list[dict[str, Any]] | None = None  # all sizes of a photo
    file_path: str | None = None


@dataclass
class ChatState:
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
    topics: dict[int, TopicState] = field(default_factory=dict)
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
class Request:
    bot: Bot
    method: TelegramMethod[Any]
    name: str
    params: dict[str, Any]
    files: dict[str, InputFile]
    delivered: list[dict[str, Any]] = field(default_factory=list)


def normalise_method_name(name: str) -> str:
    return name.replace("_", "").lower()


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data; a JSON round trip is several times faster than
    `copy.deepcopy`, and the fake copies every message it delivers."""
    return json.loads(json.dumps(value))


def shallow(message: dict[str, Any]) -> dict[str, Any]:
    """A message as it appears inside another one (Telegram does not nest replies further)."""
    inner = copy.deepcopy(message)
    inner.pop("reply_to_message", None)
    return inner
