"""Per-update context: who the customer is and which language to speak."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, User

from bot.services.customers import CustomerService, TelegramProfile
from bot.telegram.filters import PrivateChat
from bot.telegram.i18n import CatalogI18n
from bot.telegram.users import human_sender


def profile_of(user: User) -> TelegramProfile:
    return TelegramProfile(
        telegram_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


class PrivateChatsOnly(BaseMiddleware):
    """The first outer middleware of a router for private chats only. Outer middlewares run
    before a router's filters, so without it the ones after it (registering the sender as a
    customer) would also run for every message of the staff group; events of other chats go
    on to the next router, as a failing router filter would send them."""

    _private = PrivateChat()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not await self._private(event):
            return UNHANDLED
        return await handler(event, data)


class CustomerContextMiddleware(BaseMiddleware):
    """Registers the customer (or refreshes their profile) and switches to their language."""

    def __init__(self, customers: CustomerService, i18n: CatalogI18n) -> None:
        self._customers = customers
        self._i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = human_sender(event)
        if user is None:
            return await handler(event, data)
        customer = await self._customers.register(profile_of(user))
        data["customer"] = customer
        data["i18n"] = self._i18n
        with self._i18n.context(), self._i18n.use_locale(customer.locale):
            return await handler(event, data)
