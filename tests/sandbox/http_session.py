"""aiogram's own HTTP session, pointed at an emulator on this machine."""

from __future__ import annotations

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer


class LocalHttpSession(AiohttpSession):
    """`AiohttpSession` talking plain HTTP to `base`. Closing it skips the quarter of a second
    aiogram waits after closing for TLS connections to finish closing: there are none here,
    and the wait was most of these tests' time."""

    def __init__(self, base: str) -> None:
        super().__init__(api=TelegramAPIServer.from_base(base))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
