"""Offline Telegram for end-to-end dialogue tests: the sandbox's Bot API emulator
(``sandbox.emulator``, which the sandbox serves over HTTP), re-exported for the tests."""

from sandbox.emulator import (
    DEFAULT_DATE,
    MESSAGE_METHODS,
    EntityParseError,
    FakeTelegram,
    FormattedText,
    RecordedCall,
    SupportsNow,
    TelegramUser,
    UpdateFactory,
    format_text,
    utf16_len,
)

__all__ = [
    "DEFAULT_DATE",
    "MESSAGE_METHODS",
    "EntityParseError",
    "FakeTelegram",
    "FormattedText",
    "RecordedCall",
    "SupportsNow",
    "TelegramUser",
    "UpdateFactory",
    "format_text",
    "utf16_len",
]
