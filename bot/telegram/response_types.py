"""Keep aiogram's `Response[T]` classes alive for the whole run.

aiogram validates every Bot API answer with `Response[method.__returning__]`; pydantic keeps
parametrised generic classes in a weak cache, so whenever the garbage collector runs the class
is dropped and the next answer rebuilds it, a few milliseconds each time (measured: about a
quarter of the time of a relayed message). A request middleware pins each class the first time
a method with that return type is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods.base import Response as ResponseType


class PinResponseTypes(BaseRequestMiddleware):
    def __init__(self) -> None:
        self._pinned: dict[Any, type] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> ResponseType[TelegramType]:
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)
