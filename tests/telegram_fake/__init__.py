"""Offline Telegram for end-to-end dialogue tests: the sandbox's Bot API emulator.

The emulator lives in ``sandbox.emulator`` (the sandbox serves it over HTTP); this package
re-exports it, and its submodules keep their old names here too
(``tests.telegram_fake.session`` is ``sandbox.emulator.session``).
"""

import sys

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
    formatting,
    ids,
    session,
    updates,
    users,
    utf16_len,
)

for _module in (formatting, ids, session, updates, users):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[-1]}"] = _module

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
