"""The emulator on a local port for the real bot process under traffic.

Fault and load runs start ``python -m bot`` against it (``TELEGRAM_API_URL``) and need to
account for every message from outside: customers write in their private chats, agents write
in the tickets' topics of the staff group, and every copy into a chat and every text the bot
sends is kept with the moment it was answered. Updates wait in the server's queue under
Telegram's confirmation rule (polling) or go to webhook instances (``deliver_to_webhooks``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from .server import BotApiServer
from .session import FakeTelegram, RecordedCall
from .updates import UpdateFactory
from .users import TelegramUser


@dataclass(frozen=True, slots=True)
class Copy:
    """A message the bot copied (``copyMessage``) into a chat."""

    chat_id: int
    thread_id: int | None
    from_chat_id: int
    message_id: int
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class Text:
    """A text the bot sent (``sendMessage``), as it sent it (markup included)."""

    chat_id: int
    thread_id: int | None
    text: str
    at: float = field(default_factory=time.monotonic)


class _WallClock:
    """Updates carry the real date: the bot runs on the system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class LocalBotApi:
    """One bot's Telegram: customers' private chats and a forum staff group, over HTTP.

    Only the calls needed for accounting are kept (:attr:`copies`, :attr:`texts`); the
    emulator forgets the rest once answered, so a long run does not grow with its calls.
    """

    def __init__(
        self,
        *,
        token: str,
        staff_chat_id: int,
        bot_username: str = "desk_bot",
        staff_title: str = "Staff",
    ) -> None:
        self.staff_chat_id = staff_chat_id
        self.telegram = FakeTelegram(clock=_WallClock(), bot_username=bot_username)
        self.telegram.add_chat(
            staff_chat_id, chat_type="supergroup", title=staff_title, is_forum=True
        )
        bot_id = int(token.split(":", 1)[0])
        self.factory = UpdateFactory(
            self.telegram, bot_id=bot_id, bot_username=bot_username, group_title=staff_title
        )
        self.server = BotApiServer(
            self.telegram, token=token, keep_calls=False, listeners=[self._record]
        )
        self.copies: list[Copy] = []
        self.texts: list[Text] = []
        self._users: dict[int, TelegramUser] = {}
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------- the users' side

    def add_user(self, user_id: int, first_name: str, language_code: str = "en") -> TelegramUser:
        user = TelegramUser(user_id, first_name, language_code=language_code)
        self._users[user_id] = user
        self.telegram.add_user(user)
        return user

    async def customer_writes(self, user_id: int, text: str) -> int:
        """A customer sends a text in the private chat; returns its message id."""
        update = self.factory.text(self._users[user_id], text)
        await self.server.updates.put(update)
        assert update.message is not None
        return update.message.message_id

    async def agent_writes(self, user_id: int, thread_id: int, text: str) -> int:
        """An agent writes in a topic of the staff group; returns its message id."""
        update = self.factory.group_text(
            self._users[user_id], self.staff_chat_id, text, thread_id=thread_id
        )
        await self.server.updates.put(update)
        assert update.message is not None
        return update.message.message_id

    @property
    def topics(self) -> dict[int, str]:
        """The staff group's topics: thread id -> name."""
        return self.telegram.topics(self.staff_chat_id)

    def topic_of(self, marker: str) -> int | None:
        """The thread whose topic name contains ``marker`` (a customer's name)."""
        return next((tid for tid, name in self.topics.items() if marker in name), None)

    # ------------------------------------------------------------------------- the server

    async def serve(self) -> int:
        """Start serving on a free local port and return it."""
        self._runner, port = await self.server.serve()
        return port

    async def deliver_to_webhooks(self, urls: list[str], secret: str) -> None:
        await self.server.deliver_to_webhooks(urls, secret)

    async def close(self) -> None:
        """Answer the long polls still held open and stop serving."""
        await self.server.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _record(self, call: RecordedCall) -> None:
        if not call.ok or call.name not in ("copyMessage", "sendMessage"):
            return
        chat = int(str(call.chat_id))  # a form field: "-100..." as text, read as a number
        if call.name == "copyMessage":
            source = int(str(call.params["from_chat_id"]))
            self.copies.append(Copy(chat, call.thread_id, source, int(call.params["message_id"])))
        else:
            self.texts.append(Text(chat, call.thread_id, str(call.params.get("text", ""))))
