"""What the customer sends, in a transport-neutral shape the services store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain.tickets import Priority


@dataclass(frozen=True, slots=True)
class FileRef:
    kind: str  # photo, document, video, audio, voice, animation, sticker
    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    media_group_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
            "media_group_id": self.media_group_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileRef:
        return cls(
            kind=str(data["kind"]),
            file_id=str(data["file_id"]),
            file_unique_id=str(data["file_unique_id"]),
            file_name=data.get("file_name"),
            mime_type=data.get("mime_type"),
            file_size=data.get("file_size"),
            media_group_id=data.get("media_group_id"),
        )


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message from a customer: its text or caption, files and where it came from."""

    chat_id: int
    message_id: int
    content_type: str
    text: str | None = None
    files: tuple[FileRef, ...] = ()
    media_group_id: str | None = None
    update_id: int | None = None
    reply_to: int | None = None  # the message (in the same chat) this one replies to


@dataclass(frozen=True, slots=True)
class ComplaintForm:
    """A completed complaint form."""

    category: str
    description: str
    incident_date: date | None
    fields: dict[str, Any] = field(default_factory=dict)
    files: tuple[FileRef, ...] = ()
    contact_phone: str | None = None
    priority: Priority = Priority.NORMAL
