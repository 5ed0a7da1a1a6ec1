"""Event filters that run on the event loop.

aiogram calls any filter that is not a coroutine (a magic `F...` expression, a bare `State`,
a plain function) through `asyncio.to_thread`: a thread round trip per check, and a private
message passes several router-level checks before it reaches its handler. These filters do
the same checks as coroutines, so no check ever leaves the event loop
(`tests/test_routing.py` keeps it that way).
"""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject


def _chat_of(event: TelegramObject) -> Chat | None:
    if isinstance(event, Message):
        return event.chat
    if isinstance(event, CallbackQuery) and event.message is not None:
        return event.message.chat
    return None


class PrivateChat(Filter):
    """A message or button press in a private chat with the bot."""

    async def __call__(self, event: TelegramObject) -> bool:
        chat = _chat_of(event)
        return chat is not None and chat.type == "private"


class InChat(Filter):
    """A message or button press in one given chat (the staff group)."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id

    async def __call__(self, event: TelegramObject) -> bool:
        chat = _chat_of(event)
        return chat is not None and chat.id == self.chat_id


class CommandLike(Filter):
    """A text message that starts with a slash, whatever the command."""

    async def __call__(self, message: Message) -> bool:
        text = message.text
        return text is not None and text.startswith("/")


class PlainText(Filter):
    """A text message that is not a command."""

    async def __call__(self, message: Message) -> bool:
        text = message.text
        return text is not None and text != "" and not text.startswith("/")


class MaybeCommand(Filter):
    """A text or caption that starts with a slash, as aiogram's `Command` reads them: one
    cheap check in front of a router whose message handlers are all commands."""

    async def __call__(self, message: Message) -> bool:
        text = message.text or message.caption
        return text is not None and text.startswith("/")


#: What people write: everything else in a message (a topic closed or renamed, a pin, members
#: joining...) is a service message Telegram adds to the chat.
WRITTEN_CONTENT = frozenset(
    {
        ContentType.TEXT,
        ContentType.ANIMATION,
        ContentType.AUDIO,
        ContentType.DOCUMENT,
        ContentType.LIVE_PHOTO,
        ContentType.PAID_MEDIA,
        ContentType.PHOTO,
        ContentType.STICKER,
        ContentType.STORY,
        ContentType.VIDEO,
        ContentType.VIDEO_NOTE,
        ContentType.VOICE,
        ContentType.CHECKLIST,
        ContentType.CONTACT,
        ContentType.DICE,
        ContentType.GAME,
        ContentType.POLL,
        ContentType.VENUE,
        ContentType.LOCATION,
        ContentType.UNKNOWN,
    }
)


class ServiceMessage(Filter):
    """A message Telegram adds to the chat (topic closed, reopened or renamed, a pin, members
    joining or leaving...) rather than one a person wrote."""

    async def __call__(self, message: Message) -> bool:
        return message.content_type not in WRITTEN_CONTENT
