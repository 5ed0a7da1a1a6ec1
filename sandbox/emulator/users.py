"""People taking part in test dialogues, and the clock protocol shared by the fake and builders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

#: The moment every fake message and update carries unless a test sets another one.
DEFAULT_DATE = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


class SupportsNow(Protocol):
    """Anything with ``now()`` returning an aware datetime (the project's ``Clock`` fits)."""

    def now(self) -> datetime: ...


def unix_time(moment: datetime) -> int:
    """Telegram's wire format for dates: whole seconds since the epoch."""
    if moment.tzinfo is None:
        raise ValueError("Telegram dates must be timezone-aware")
    return round(moment.timestamp())


@dataclass(frozen=True)
class TelegramUser:
    """A Telegram account used in a test (customer, agent, supervisor)."""

    id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    @property
    def full_name(self) -> str:
        if self.last_name:
            return f"{self.first_name} {self.last_name}"
        return self.first_name

    def to_api(self) -> dict[str, Any]:
        """The user as the Bot API serialises it (``User`` object)."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data

    def private_chat(self) -> dict[str, Any]:
        """The private chat between this user and the bot (``Chat`` object)."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data
