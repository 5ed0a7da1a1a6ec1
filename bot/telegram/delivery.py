"""The outbox delivery worker: sends what `bot/services/outbox.py` queued, paced and retried.

Each message is claimed (`sending`, with a lease) before the Bot API call and marked `sent`
after it, with the ids of what Telegram created (links for edits and replies).

Delivery guarantee: **at least once**. Telegram has no idempotency key for sending, so a
process that dies after Telegram accepted a message but before `sent` was committed cannot
know whether it went out; when the lease expires the message is sent again. A round claims
its rows in one transaction and records each sent message right after Telegram's answer, so
the window is from that answer to that record: one message, a few milliseconds without
network trouble. A visible duplicate
needs a crash inside it; losing an agent's reply silently would be worse. Edits are
idempotent (Telegram answers "message is not modified"), so for them a replay is invisible.

Failures: 429 waits exactly `retry_after`; network and server errors back off exponentially
(2 s doubling up to 10 min, then `failed` after `max_attempts`); 403 marks the customer
unreachable, fails the message at once and tells the ticket's topic; "message thread not
found" re-creates the ticket's topic (with its card) and sends there. A message waiting for a
retry holds back the later messages of the same chat, so a chat always gets them in order.

Card refreshes (`refresh_card` rows, chat `STAFF_GROUP`) are paced as messages into the staff
group; several due for one ticket in a round are done once (the card is rendered from the
ticket as stored now). Without a staff group they are simply marked done.

Pacing (in memory, per process): about one message per second into a private chat and at most
`group_limit` per minute into a group (a sliding window). What does not fit stays queued.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    ReplyParameters,
)

from bot.domain.clock import Clock
from bot.locales.catalog import Catalogs
from bot.services.analytics.digest import DIGEST
from bot.services.outbox import REFRESH_CARD, STAFF_GROUP, enqueue_card_refresh, enqueue_text
from storage.delivery_store import DeliveryStore, NewLink, SentRow
from storage.outbox_models import OutboxMessage
from storage.unit_of_work import Database

log = logging.getLogger(__name__)

MEDIA_GROUP_LIMIT = 10
# Each sent message is recorded before the next is sent: the window in which a crash can
# repeat a message stays one message wide (Telegram itself caps sending at about 30/s).
MARK_EVERY = 1
HTML = ParseMode.HTML
_INPUT_MEDIA: dict[str, Any] = {
    "photo": InputMediaPhoto,
    "video": InputMediaVideo,
    "document": InputMediaDocument,
    "audio": InputMediaAudio,
}


class TicketThreads(Protocol):
    """What the worker needs from the staff desk to send into a ticket's topic."""

    async def thread_for(self, ticket_id: int) -> int | None:
        """The ticket's topic (created if missing); None when the group has no topics."""
        ...

    async def thread_lost(self, ticket_id: int, thread_id: int | None) -> None:
        """Telegram said the topic is gone: make a new one (with the card)."""
        ...

    async def refresh(self, ticket_id: int) -> None:
        """Re-render the ticket's card and topic name from the stored ticket."""
        ...


class Pacer:
    """Sliding-window pacing per chat; `next_slot` says when a chat may get the next message."""

    def __init__(
        self,
        *,
        group_limit: int = 20,
        group_window: timedelta = timedelta(minutes=1),
        private_interval: timedelta = timedelta(seconds=1),
    ) -> None:
        self.group_limit = group_limit
        self.group_window = group_window
        self.private_interval = private_interval
        self._group: dict[int, deque[datetime]] = {}
        self._private: dict[int, datetime] = {}

    def next_slot(self, chat_id: int, now: datetime) -> datetime | None:
        """None when a message may go now, else the earliest moment it may."""
        if chat_id > 0:
            last = self._private.get(chat_id)
            if last is not None and now < last + self.private_interval:
                return last + self.private_interval
            return None
        if not self.group_limit:
            return None
        window = self._group.get(chat_id)
        if window is None:
            return None
        while window and window[0] <= now - self.group_window:
            window.popleft()
        if len(window) >= self.group_limit:
            return window[0] + self.group_window
        return None

    def record(self, chat_id: int, now: datetime) -> None:
        if chat_id > 0:
            self._private[chat_id] = now
        elif self.group_limit:
            self._group.setdefault(chat_id, deque()).append(now)


@dataclass(frozen=True, slots=True)
class _Sent:
    message_ids: list[int]


def _markup(rows: Sequence[Sequence[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton.model_validate(button) for button in row] for row in rows
        ]
    )


def _reply(payload: dict[str, Any]) -> ReplyParameters | None:
    reply_to = payload.get("reply_to")
    if reply_to is None:
        return None
    return ReplyParameters(message_id=int(reply_to), allow_sending_without_reply=True)


def _is_thread_lost(error: TelegramBadRequest) -> bool:
    return "message thread not found" in error.message.lower()


def _is_not_modified(error: TelegramBadRequest) -> bool:
    return "message is not modified" in error.message.lower()


class DeliveryWorker:
    def __init__(
        self,
        bot: Bot,
        database: Database,
        clock: Clock,
        catalogs: Catalogs,
        *,
        staff_chat_id: int | None,
        staff_locale: str,
        pacer: Pacer | None = None,
        threads: TicketThreads | None = None,
        batch_size: int = 200,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
        idle_poll: float = 5.0,
    ) -> None:
        self._bot = bot
        self._database = database
        self._store = DeliveryStore(database)
        self._clock = clock
        self._catalogs = catalogs
        self._staff_chat_id = staff_chat_id
        self._staff_locale = staff_locale
        self.pacer = pacer or Pacer()
        self.threads = threads
        self._batch_size = batch_size
        self._lease = lease
        self._max_attempts = max_attempts
        self._idle_poll = idle_poll
        self._wake = asyncio.Event()
        self._next_slot: datetime | None = None

    def notify(self) -> None:
        """Something was enqueued: deliver without waiting for the next poll."""
        self._wake.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox delivery round failed")
            timeout = await self._seconds_to_next()
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _seconds_to_next(self) -> float:
        async with self._database.unit_of_work() as uow:
            due = await uow.delivery.next_due_at()
        candidates = [moment for moment in (due, self._next_slot) if moment is not None]
        if not candidates:
            return self._idle_poll
        delta = (min(candidates) - self._clock.now()).total_seconds()
        return min(max(delta, 0.0), self._idle_poll)

    async def run_once(self) -> int:
        """Deliver everything due now that pacing allows; returns how many were delivered.

        One transaction reads and claims the round's rows, one records the outcomes (every
        `MARK_EVERY` sent messages and at the end, which bounds what a crash can replay).
        """
        now = self._clock.now()
        self._next_slot = None
        coalesced: list[int] = []

        def choose(rows: Sequence[OutboxMessage], held: set[int]) -> list[OutboxMessage]:
            chosen: list[OutboxMessage] = []
            refreshed: set[int] = set()
            for row in rows:
                assert row.id is not None
                if row.kind == REFRESH_CARD and (
                    row.ticket_id is None or self.threads is None or row.ticket_id in refreshed
                ):
                    coalesced.append(row.id)
                    continue
                chat = self._pacing_chat(row)
                if row.chat_id in held or chat in held:
                    continue
                slot = self.pacer.next_slot(chat, now)
                if slot is not None:
                    held.add(chat)
                    self._next_slot = (
                        slot if self._next_slot is None else min(self._next_slot, slot)
                    )
                    continue
                if row.kind == REFRESH_CARD:
                    assert row.ticket_id is not None
                    refreshed.add(row.ticket_id)  # the refresh records its own calls
                else:
                    self.pacer.record(chat, now)  # the slot is taken even if the send fails
                chosen.append(row)
            return chosen

        rows = await self._store.claim_due(
            now=now, limit=self._batch_size, lease_until=now + self._lease, choose=choose
        )
        sent: list[SentRow] = [SentRow(row_id, None) for row_id in coalesced]
        links: list[NewLink] = []
        released: list[int] = []
        failed_chats: set[int] = set()
        delivered = 0
        for row in rows:
            assert row.id is not None
            if row.chat_id in failed_chats:
                released.append(row.id)  # keeps the chat's order behind the failed message
                continue
            outcome = await self._attempt(row, now)
            if outcome is None:
                failed_chats.add(row.chat_id)
                continue
            delivered += 1
            sent.append(SentRow(row.id, outcome.message_ids[0] if outcome.message_ids else None))
            links.extend(self._new_links(row, outcome))
            if len(sent) >= MARK_EVERY:
                await self._store.finish(now=now, sent=sent, links=links, released=[])
                sent, links = [], []
        await self._store.finish(now=now, sent=sent, links=links, released=released)
        return delivered

    def _pacing_chat(self, row: OutboxMessage) -> int:
        if row.chat_id == STAFF_GROUP and self._staff_chat_id is not None:
            return self._staff_chat_id
        return row.chat_id

    async def _attempt(self, row: OutboxMessage, now: datetime) -> _Sent | None:
        """Send one claimed row; None when it failed (already rescheduled or marked failed)."""
        assert row.id is not None
        attempts = row.attempts + 1
        try:
            try:
                return await self._send(row)
            except TelegramBadRequest as error:
                if not (_is_thread_lost(error) and row.ticket_id and self.threads):
                    raise
                await self.threads.thread_lost(row.ticket_id, row.thread_id)
                return await self._send(row)
        except TelegramRetryAfter as error:
            await self._reschedule(row, now + timedelta(seconds=error.retry_after), str(error))
        except TelegramForbiddenError as error:
            await self._forbidden(row, now, str(error))
        except TelegramBadRequest as error:
            if _is_not_modified(error):
                return _Sent([])
            log.warning("outbox %s (%s) rejected: %s", row.id, row.kind, error.message)
            await self._fail(row, str(error))
        except (TelegramAPIError, OSError, TimeoutError) as error:
            await self._backoff(row, now, attempts, repr(error))
        except Exception as error:
            log.exception("outbox %s (%s) failed unexpectedly", row.id, row.kind)
            await self._backoff(row, now, attempts, repr(error))
        return None

    async def _send(self, row: OutboxMessage) -> _Sent:
        payload = row.payload
        thread = row.thread_id
        if payload.get("ticket_topic") and row.ticket_id is not None and self.threads is not None:
            thread = await self.threads.thread_for(row.ticket_id)
            row.thread_id = thread
        if row.kind == REFRESH_CARD:
            if self.threads is not None and row.ticket_id is not None:
                await self.threads.refresh(row.ticket_id)
            return _Sent([])
        silent = bool(payload.get("silent")) or None
        if row.kind == "text":
            message = await self._bot.send_message(
                row.chat_id,
                payload["html"],
                parse_mode=HTML,
                message_thread_id=thread,
                reply_markup=_markup(payload.get("buttons")),
                reply_parameters=_reply(payload),
                disable_notification=silent,
            )
            return _Sent([message.message_id])
        if row.kind == "copy":
            extra: dict[str, Any] = {}
            if payload.get("caption") is not None:
                extra["caption"] = payload["caption"]
                extra["parse_mode"] = HTML
            copied = await self._bot.copy_message(
                row.chat_id,
                int(payload["from_chat_id"]),
                int(payload["message_id"]),
                message_thread_id=thread,
                reply_parameters=_reply(payload),
                disable_notification=silent,
                **extra,
            )
            return _Sent([copied.message_id])
        if row.kind == "media_group":
            return await self._send_media(row.chat_id, thread, payload)
        if row.kind == DIGEST:
            return await self._send_digest(row.chat_id, thread, payload)
        if row.kind == "edit_text":
            await self._bot.edit_message_text(
                payload["html"],
                parse_mode=HTML,
                chat_id=row.chat_id,
                message_id=int(payload["message_id"]),
                reply_markup=_markup(payload.get("buttons")),
            )
            return _Sent([])
        if row.kind == "edit_caption":
            await self._bot.edit_message_caption(
                chat_id=row.chat_id,
                message_id=int(payload["message_id"]),
                caption=payload["html"],
                parse_mode=HTML,
            )
            return _Sent([])
        raise ValueError(f"unknown outbox kind {row.kind!r}")

    async def _send_media(self, chat_id: int, thread: int | None, payload: dict[str, Any]) -> _Sent:
        items: list[dict[str, Any]] = list(payload.get("items", []))
        ids: list[int] = []
        reply = _reply(payload)
        for start in range(0, len(items), MEDIA_GROUP_LIMIT):
            chunk = items[start : start + MEDIA_GROUP_LIMIT]
            if len(chunk) == 1:
                ids.append(await self._send_single(chat_id, thread, chunk[0], reply))
                continue
            media = [
                _INPUT_MEDIA[item["type"]](
                    media=item["file_id"], caption=item.get("caption"), parse_mode=HTML
                )
                for item in chunk
            ]
            messages = await self._bot.send_media_group(
                chat_id, media, message_thread_id=thread, reply_parameters=reply
            )
            ids.extend(message.message_id for message in messages)
        return _Sent(ids)

    async def _send_digest(
        self, chat_id: int, thread: int | None, payload: dict[str, Any]
    ) -> _Sent:
        """The weekly digest: its text, then its chart (a PNG carried in the payload)."""
        ids = [
            (
                await self._bot.send_message(
                    chat_id, payload["html"], parse_mode=HTML, message_thread_id=thread
                )
            ).message_id
        ]
        if payload.get("photo"):
            picture = BufferedInputFile(base64.b64decode(payload["photo"]), filename="digest.png")
            sent = await self._bot.send_photo(
                chat_id, picture, caption=payload.get("caption"), message_thread_id=thread
            )
            ids.append(sent.message_id)
        return _Sent(ids)

    async def _send_single(
        self,
        chat_id: int,
        thread: int | None,
        item: dict[str, Any],
        reply: ReplyParameters | None,
    ) -> int:
        senders: dict[str, Any] = {
            "photo": self._bot.send_photo,
            "video": self._bot.send_video,
            "document": self._bot.send_document,
            "audio": self._bot.send_audio,
        }
        message = await senders[item["type"]](
            chat_id,
            item["file_id"],
            caption=item.get("caption"),
            parse_mode=HTML,
            message_thread_id=thread,
            reply_parameters=reply,
        )
        return message.message_id

    def _new_links(self, row: OutboxMessage, sent: _Sent) -> list[NewLink]:
        if row.ticket_id is None or not sent.message_ids:
            return []
        return [
            NewLink(row.ticket_id, source_chat, source_id, row.chat_id, copy_id)
            for source_chat, source_id, copy_id in self._links(row, sent)
        ]

    def _links(self, row: OutboxMessage, sent: _Sent) -> list[tuple[int, int, int]]:
        payload = row.payload
        link = payload.get("link")
        if link:
            return [
                (int(link["source_chat_id"]), int(link["source_message_id"]), copy_id)
                for copy_id in sent.message_ids
            ]
        if row.kind == "media_group" and payload.get("source_chat_id") is not None:
            pairs = zip(payload.get("items", []), sent.message_ids, strict=False)
            return [
                (int(payload["source_chat_id"]), int(item["source_message_id"]), copy_id)
                for item, copy_id in pairs
                if item.get("source_message_id") is not None
            ]
        if row.chat_id == self._staff_chat_id:
            return [(row.chat_id, copy_id, copy_id) for copy_id in sent.message_ids]
        return []

    async def _reschedule(self, row: OutboxMessage, at: datetime, error: str) -> None:
        assert row.id is not None
        async with self._database.unit_of_work() as uow:
            await uow.delivery.reschedule(message_id=row.id, at=at, error=error)

    async def _backoff(self, row: OutboxMessage, now: datetime, attempts: int, error: str) -> None:
        if attempts >= self._max_attempts:
            await self._fail(row, error)
            return
        delay = min(timedelta(seconds=2**attempts), timedelta(minutes=10))
        await self._reschedule(row, now + delay, error)

    async def _fail(self, row: OutboxMessage, error: str) -> None:
        assert row.id is not None
        async with self._database.unit_of_work() as uow:
            await uow.delivery.mark_failed(message_id=row.id, error=error)

    async def _forbidden(self, row: OutboxMessage, now: datetime, error: str) -> None:
        assert row.id is not None
        async with self._database.unit_of_work() as uow:
            await uow.delivery.mark_failed(message_id=row.id, error=error)
            if row.chat_id <= 0:
                return
            customer = await uow.customers.by_telegram_id(telegram_id=row.chat_id)
            if customer is not None and not customer.is_unreachable:
                customer.is_unreachable = True
                customer.updated_at = now
                await uow.customers.save(customer=customer)
            if row.ticket_id is not None:
                await enqueue_card_refresh(uow, ticket_id=row.ticket_id, now=now)
            notify = row.payload.get("notify_forbidden", True)
            if row.ticket_id is None or self._staff_chat_id is None or not notify:
                return
            link = row.payload.get("link")
            await enqueue_text(
                uow,
                key=f"unreachable:{row.id}",
                chat_id=self._staff_chat_id,
                html=self._catalogs.render("desk.notice.unreachable", self._staff_locale),
                now=now,
                ticket_id=row.ticket_id,
                ticket_topic=True,
                reply_to=int(link["source_message_id"])
                if link and link.get("source_chat_id") == self._staff_chat_id
                else None,
            )
        self.notify()


async def stop_worker(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task
