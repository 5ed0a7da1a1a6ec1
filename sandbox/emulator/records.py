"""What a test reads back: every call the bot made, and calls held waiting."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from aiogram.methods import TelegramMethod
from aiogram.types import InputFile, Message

if TYPE_CHECKING:
    from aiogram import Bot


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
class HeldCall:
    """A call kept waiting by :meth:`FakeTelegram.hold`."""

    called: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the call arrives."""
    answer: asyncio.Event = field(default_factory=asyncio.Event)
    """Set it to let the call be answered."""
