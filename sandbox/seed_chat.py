"""Acting in the emulator as the seeded people, and waiting until the bot has answered."""

from __future__ import annotations

import re
from collections.abc import Awaitable

from sandbox.emulator import TelegramUser
from sandbox.world import SandboxWorld

#: How long the seed waits for the bot to show something before giving a story up.
WAIT_SECONDS = 45.0
NUMBER = re.compile(r"\b[A-Z]+-\d{4,}\b")


class ChatDriver:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world

    async def say_and_wait(self, user: TelegramUser, text: str) -> None:
        await self.settled(self.world.send_text(user.id, text), user.id)

    async def settled(self, action: Awaitable[int], chat_id: int) -> None:
        """Do it, then wait until the bot has answered in that chat (a new message or edit)."""
        before = self._fingerprint(chat_id)
        await action
        await self.world.until(lambda: self._fingerprint(chat_id) != before, WAIT_SECONDS)

    def _fingerprint(self, chat_id: int) -> tuple[int, int]:
        bot_messages = [
            m
            for m in self.world.telegram.history(chat_id)
            if m.get("from", {}).get("id") == self.world.server.bot_id
        ]
        last = max((m["message_id"] for m in bot_messages), default=0)
        edits = sum(m.get("edit_date", 0) for m in bot_messages)
        return last, edits

    async def press(self, user: TelegramUser, label: str) -> None:
        """Press the newest button with this label in the user's chat with the bot."""

        def find() -> tuple[int, str] | None:
            for message in reversed(self.world.telegram.history(user.id)):
                rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
                for row in rows:
                    for button in row:
                        if button.get("text") == label and "callback_data" in button:
                            return message["message_id"], button["callback_data"]
            return None

        await self.world.until(lambda: find() is not None, WAIT_SECONDS)
        found = find()
        assert found is not None
        message_id, data = found
        await self.settled(self.world.press(user.id, user.id, message_id, data), user.id)

    async def until_number(self, user: TelegramUser) -> str:
        def number() -> str | None:
            for message in reversed(self.world.telegram.history(user.id)):
                match = NUMBER.search(message.get("text") or "")
                if match:
                    return match.group()
            return None

        await self.world.until(lambda: number() is not None, WAIT_SECONDS)
        found = number()
        assert found is not None
        return found

    async def until_topic(self, number: str) -> int:
        def thread() -> int | None:
            return next((t["thread_id"] for t in self.world.topics() if number in t["name"]), None)

        await self.world.until(lambda: thread() is not None, WAIT_SECONDS)
        found = thread()
        assert found is not None
        return found
