"""The sandbox's Telegram: the emulator's chats, the people acting in them, and live events.

The page calls these methods for what a person does (type, press a button, share a contact,
attach a file, edit, reply); each becomes the update Telegram would send the bot. What the bot
does comes back through the Bot API server; every change is announced to the page as an event
naming the chat (and topic) to redraw.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram.types import Update

from sandbox import cast
from sandbox.clock import SandboxClock
from sandbox.emulator import FakeTelegram, RecordedCall, TelegramUser, UpdateFactory, ids
from sandbox.emulator.server import BotApiServer


class EventHub:
    """Fans events out to every open page (server-sent events)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()

    def publish(self, event: dict[str, Any]) -> None:
        for queue in self._queues:
            queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._queues.add(queue)
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._queues.discard(queue)

    def close(self) -> None:
        for queue in self._queues:
            queue.put_nowait(None)

    async def until(self, condition: Callable[[], bool], within: float) -> None:
        """Wait until the condition holds, checking it after every event (TimeoutError)."""

        async def watch() -> None:
            async for _ in self.subscribe():
                if condition():
                    return

        if condition():
            return
        await asyncio.wait_for(watch(), within)


class UnknownPerson(LookupError):
    pass


class SandboxWorld:
    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.telegram = FakeTelegram(
            clock=clock, bot_first_name=cast.BOT_NAME, bot_username=cast.BOT_USERNAME
        )
        self.factory = UpdateFactory(self.telegram, clock=clock)
        self.server = BotApiServer(
            self.telegram, token=cast.BOT_TOKEN, keep_calls=False, listeners=[self._heard]
        )
        self.events = EventHub()
        self.people: dict[int, TelegramUser] = {}
        self.customers: list[cast.Customer] = []
        self.clock_listeners: list[Callable[[], Awaitable[None]]] = []
        # Reply keyboards are never echoed back by Telegram: the client keeps the last one.
        self.reply_keyboards: dict[int, dict[str, Any]] = {}
        self._queries: dict[str, int] = {}  # callback query id -> who pressed
        self.telegram.add_chat(
            cast.STAFF_CHAT_ID, chat_type="supergroup", title=cast.STAFF_CHAT_TITLE, is_forum=True
        )
        self.telegram.set_admins(cast.STAFF_CHAT_ID, cast.admins())
        for member in cast.STAFF:
            self.add_person(member.user)
        for customer in cast.CUSTOMERS:
            self.add_customer(customer)

    def add_customer(self, customer: cast.Customer) -> None:
        self.customers.append(customer)
        self.add_person(customer.user)

    async def until(self, condition: Callable[[], bool], within: float) -> None:
        await self.events.until(condition, within)

    def add_person(self, user: TelegramUser) -> None:
        self.people[user.id] = user
        self.telegram.add_user(user)

    def person(self, user_id: int) -> TelegramUser:
        try:
            return self.people[user_id]
        except KeyError:
            raise UnknownPerson(f"nobody with id {user_id} in the sandbox") from None

    # ---------------------------------------------------------------------- what people do

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        from_keyboard: bool = False,
    ) -> int:
        user = self.person(user_id)
        if from_keyboard:
            self._used_keyboard(user_id)
        update = self.factory.text(
            user,
            text,
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to_message_id=reply_to,
        )
        return await self._push(update, chat_id or user_id, thread_id)

    async def edit_text(self, user_id: int, message_id: int, text: str, *, chat_id: int) -> int:
        update = self.factory.edited_text(self.person(user_id), message_id, text, chat_id=chat_id)
        return await self._push(update, chat_id, None)

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> int:
        update = self.factory.callback(
            self.person(user_id), data, chat_id=chat_id, message_id=message_id
        )
        assert update.callback_query is not None
        self._queries[update.callback_query.id] = user_id
        return await self._push(update, None, None)

    async def share_contact(self, user_id: int) -> int:
        user = self.person(user_id)
        phone = next((c.phone for c in self.customers if c.user.id == user_id and c.phone), None)
        phone = phone or f"+1555{user_id % 10_000_000:07d}"
        self._used_keyboard(user_id)
        return await self._push(self.factory.contact(user, phone), user_id, None)

    async def send_files(
        self,
        user_id: int,
        files: list[tuple[str, bytes]],
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> list[int]:
        """Pictures go as photos, anything else as documents; several make an album."""
        user = self.person(user_id)
        group = ids.new_media_group_id() if len(files) > 1 else None
        pushed = []
        for index, (name, content) in enumerate(files):
            text = caption if index == 0 else None
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            options: dict[str, Any] = {
                "chat_id": chat_id,
                "thread_id": thread_id,
                "reply_to_message_id": reply_to if index == 0 else None,
            }
            if mime.startswith("image/") and mime != "image/svg+xml":
                update = self.factory.photo(user, text, media_group_id=group, **options)
                assert update.message is not None and update.message.photo
                for size in update.message.photo:
                    self.telegram.set_file_content(size.file_id, content)
            else:
                update = self.factory.document(
                    user,
                    name,
                    mime,
                    caption=text,
                    file_size=len(content),
                    media_group_id=group,
                    **options,
                )
                assert update.message is not None and update.message.document
                self.telegram.set_file_content(update.message.document.file_id, content)
            pushed.append(await self._push(update, chat_id or user_id, thread_id))
        return pushed

    def _used_keyboard(self, chat_id: int) -> None:
        keyboard = self.reply_keyboards.get(chat_id)
        if keyboard and keyboard.get("one_time_keyboard"):
            self.reply_keyboards.pop(chat_id, None)

    async def _push(self, update: Update, chat_id: int | None, thread_id: int | None) -> int:
        await self.server.updates.put(update)
        if chat_id is not None:
            self.events.publish({"type": "chat", "chat_id": chat_id, "thread_id": thread_id})
        return update.update_id

    # ------------------------------------------------------------------------------ time

    async def advance(self, delta: timedelta) -> None:
        """Move the clock, then let the bot catch up (its sweeps run, what they queued goes)."""
        self.clock.advance(delta)
        self.events.publish({"type": "clock", "now": self.clock.now().isoformat()})
        for listener in self.clock_listeners:
            await listener()

    # --------------------------------------------------------------------- what the bot did

    def _heard(self, call: RecordedCall) -> None:
        if call.name == "answerCallbackQuery":
            self._answered(call)
            return
        chat_id = call.chat_id
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if not isinstance(chat_id, int):
            return
        markup = call.reply_markup or {}
        if call.ok and chat_id > 0:
            if "keyboard" in markup:
                self.reply_keyboards[chat_id] = markup
            elif markup.get("remove_keyboard"):
                self.reply_keyboards.pop(chat_id, None)
        topics = call.name.endswith("ForumTopic")
        self.events.publish(
            {"type": "chat", "chat_id": chat_id, "thread_id": call.thread_id, "topics": topics}
        )

    def _answered(self, call: RecordedCall) -> None:
        """A callback answer with text shows as a toast (or an alert) to whoever pressed."""
        user_id = self._queries.pop(str(call.params.get("callback_query_id")), None)
        text = call.params.get("text")
        if call.ok and user_id is not None and text:
            self.events.publish(
                {
                    "type": "toast",
                    "user_id": user_id,
                    "text": text,
                    "show_alert": bool(call.params.get("show_alert")),
                }
            )

    # --------------------------------------------------------------------------- reading

    def messages(self, chat_id: int, thread_id: int | None = None) -> list[dict[str, Any]]:
        """A private chat, or one topic of the staff group (None: its general topic)."""
        history = self.telegram.history(chat_id)
        if chat_id > 0:
            return history
        return [m for m in history if m.get("message_thread_id") == thread_id]

    def topics(self) -> list[dict[str, Any]]:
        history = self.telegram.history(cast.STAFF_CHAT_ID)
        last: dict[int, int] = {}
        for message in history:
            thread = message.get("message_thread_id")
            if thread is not None:
                last[thread] = max(last.get(thread, 0), message["date"])
        found = [
            {
                "thread_id": thread_id,
                "name": name,
                "closed": self.telegram.is_topic_closed(cast.STAFF_CHAT_ID, thread_id),
                "last_date": last.get(thread_id, 0),
            }
            for thread_id, name in self.telegram.topics(cast.STAFF_CHAT_ID).items()
        ]
        return sorted(found, key=lambda t: (t["last_date"], t["thread_id"]), reverse=True)

    async def file_content(self, file_id: str) -> bytes | None:
        """What a file id shows: bytes the sender attached, as the bot would download them."""
        bot = self.server.bot
        try:
            file = await bot.get_file(file_id)
            if not file.file_path:
                return None
            chunks = [c async for c in self.telegram.stream_content("/" + file.file_path)]
        except Exception:
            return None
        finally:
            self.telegram.clear()
        return b"".join(chunks)
