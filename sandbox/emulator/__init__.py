"""Offline Telegram: a Bot API that keeps chats, messages, topics and files in memory.

``FakeTelegram`` is a Bot API session that records every call and answers like Telegram;
``UpdateFactory`` builds the real ``Update`` objects users send. The dialogue tests plug the
session into a ``Bot`` directly; the sandbox serves the same state over HTTP.
"""

from .formatting import EntityParseError, FormattedText, format_text, utf16_len
from .session import MESSAGE_METHODS, FakeTelegram, RecordedCall
from .updates import UpdateFactory
from .users import DEFAULT_DATE, SupportsNow, TelegramUser

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
