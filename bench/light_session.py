"""A minimal Bot API session for benchmarks: answers like Telegram, keeps no state.

It does what the real HTTP session does with a response (JSON → `check_response` → typed
result) but skips the network and the bookkeeping of the test fake, so the numbers show the
cost of the bot's own code.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

BOT_USER = {"id": 42, "is_bot": True, "first_name": "Support Desk", "username": "desk_bot"}


class LightSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self.calls = 0

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
        }
        if "text" in params:
            message["text"] = params["text"]
        if params.get("message_thread_id"):
            message["message_thread_id"] = params["message_thread_id"]
        return message

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name.startswith("send") and name != "sendChatAction":
            return self._message(params)
        if name in ("copyMessage", "forwardMessage"):
            return {"message_id": next(self._ids)}
        if name.startswith("edit"):
            return self._message(params)
        if name == "createForumTopic":
            return {
                "message_thread_id": next(self._ids),
                "name": params.get("name", ""),
                "icon_color": 7322096,
            }
        return True

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        self.calls += 1
        params = method.model_dump(exclude_none=True, warnings=False)
        payload = {"ok": True, "result": self._result(method.__api_method__, params)}
        response = self.check_response(
            bot=bot, method=method, status_code=200, content=json.dumps(payload, default=str)
        )
        return response.result  # type: ignore[return-value]

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None
