"""Who is staff: administrators of the staff group (cached) and ids from the configuration."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.domain.clock import Clock
from bot.services.desk import AgentRef
from bot.telegram.i18n import CatalogI18n
from bot.telegram.users import human_sender

log = logging.getLogger(__name__)

# After a failed read of the admin list, the last known list is used for this long before
# Telegram is asked again (so an outage does not make every staff update wait for it).
RETRY_AFTER_FAILURE = timedelta(seconds=30)


class StaffDirectory:
    def __init__(
        self,
        bot: Bot,
        clock: Clock,
        *,
        chat_id: int,
        extra_ids: list[int],
        ttl: timedelta = timedelta(minutes=5),
    ) -> None:
        self._bot = bot
        self._clock = clock
        self._chat_id = chat_id
        self._extra = frozenset(extra_ids)
        self._ttl = ttl
        self._admins: frozenset[int] = frozenset()
        self._fetched_at: datetime | None = None
        self._failed_at: datetime | None = None
        self._fetching = asyncio.Lock()

    async def is_staff(self, user_id: int) -> bool:
        if user_id in self._extra:
            return True
        return user_id in await self.admins()

    async def admins(self) -> frozenset[int]:
        """The group's administrators: read from Telegram when the list is older than the
        TTL, by one request at a time (concurrent callers wait for it and share its answer);
        when Telegram cannot answer, the last known list stands."""
        if self._current(self._clock.now()):
            return self._admins
        async with self._fetching:
            now = self._clock.now()
            if self._current(now):
                return self._admins  # fetched (or failed) while this caller waited
            try:
                members = await self._bot.get_chat_administrators(self._chat_id)
            except TelegramAPIError as error:
                log.warning("cannot read the staff group's administrators: %s", error)
                self._failed_at = self._clock.now()
                return self._admins
            self._admins = frozenset(m.user.id for m in members if not m.user.is_bot)
            self._fetched_at = self._clock.now()
            self._failed_at = None
        return self._admins

    def _current(self, now: datetime) -> bool:
        if self._fetched_at is not None and now - self._fetched_at < self._ttl:
            return True
        return self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE


def agent_of(user: User) -> AgentRef:
    return AgentRef(user_id=user.id, name=user.full_name, username=user.username)


class DeskLanguage(BaseMiddleware):
    """Staff handlers speak the desk's language (STAFF_LOCALE), in the group and in private."""

    def __init__(self, i18n: CatalogI18n, locale: str) -> None:
        self._i18n = i18n
        self._locale = locale

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        with self._i18n.context(), self._i18n.use_locale(self._locale):
            return await handler(event, data)


class StaffGate(BaseMiddleware):
    """Lets only staff through (inside `DeskLanguage`, so a refusal speaks the desk's language)."""

    def __init__(self, directory: StaffDirectory, i18n: CatalogI18n) -> None:
        self._directory = directory
        self._i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = human_sender(event)
        if user is None:
            return None
        if not await self._directory.is_staff(user.id):
            await self._refuse(event)
            return None
        data["agent"] = agent_of(user)
        return await handler(event, data)

    async def _refuse(self, event: TelegramObject) -> None:
        text = self._i18n.plain("desk.refused")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message) and (event.text or "").startswith("/"):
            await event.reply(self._i18n.render("desk.refused"))
