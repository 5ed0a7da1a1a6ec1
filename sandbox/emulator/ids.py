"""Identifiers that look like Telegram's: file ids, unique file ids, callback query ids."""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass

# One sequence for the whole test process, so ids made by different fakes and builders never
# collide.
_sequence = itertools.count(1)

# Real file ids start with a few bytes that encode the file type; these mimic them.
_FILE_ID_PREFIXES: dict[str, str] = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
    "audio": "CQACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "animation": "CgACAgIAAxkBAAI",
    "video_note": "DQACAgIAAxkBAAI",
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def next_number() -> int:
    """The next number of the process-wide sequence."""
    return next(_sequence)


@dataclass(frozen=True)
class FileIds:
    file_id: str
    file_unique_id: str


def new_file_ids(kind: str) -> FileIds:
    """A fresh, unique pair of ids for a file of the given kind ("photo", "document", ...)."""
    number = next_number()
    digest = hashlib.sha256(f"{kind}:{number}".encode()).digest()
    prefix = _FILE_ID_PREFIXES.get(kind, "BQACAgIAAxkBAAI")
    file_id = prefix + _b64(number.to_bytes(4, "big") + digest[:36])
    unique = "AQAD" + _b64(digest[-9:] + number.to_bytes(3, "big"))
    return FileIds(file_id=file_id, file_unique_id=unique)


def unique_id_for(file_id: str) -> str:
    """A stable unique id for a file id the fake did not issue itself."""
    digest = hashlib.sha256(file_id.encode()).digest()
    return "AQAD" + _b64(digest[:12])


def new_callback_query_id() -> str:
    """Callback query ids are large decimal numbers sent as strings."""
    return str(4_286_093_412_345_000_000 + next_number())


def chat_instance_for(chat_id: int) -> str:
    """Telegram's ``chat_instance``: an opaque signed number, stable per chat."""
    digest = hashlib.sha256(f"chat-instance:{chat_id}".encode()).digest()
    return str(-int.from_bytes(digest[:7], "big"))


def new_media_group_id() -> str:
    return str(13_900_000_000_000_000 + next_number())
