"""The outbox delivery worker: sends what `bot/services/outbox.py` queued, paced and retried.

**Fetching.** A round reads the oldest due rows of every chat that may send now
(`DeliveryStore.claim_due`), lane by lane (`storage/outbox_models.py` `LANES`: the
conversation first, desk notices and cards next, broadcasts last) and at most as many of one
chat as its pace allows: chats held by a retry or by another sender's lease and chats being
paced are left out in the query, so one busy chat (the staff group at 20 a minute) never fills
a round and a reply never waits behind a broadcast.
Within a chat, messages relayed from one source chat go in the order of their source message
ids, whichever instance stored them first.

**Claiming.** Each message is claimed (`sending`, with a short lease that is renewed while the
round runs) before the Bot API call and marked `sent` after it, with the ids of what Telegram
created (links for edits and replies). A process that dies holds its rows for one lease at
most (`lease`, 30 s), then another worker (or the restarted one) takes them over.

Delivery guarantee: **at least once**. Telegram has no idempotency key for sending, so a
process that dies after Telegram accepted a message but before `sent` was committed cannot
know whether it went out; when the lease expires the message is sent again. Each sent message
is recorded right after Telegram's answer, so the window is one message wide. Edits are
idempotent (Telegram answers "message is not modified"), so for them a replay is invisible.

**Length.** A text longer than Telegram's 4,096 units (counted after HTML parsing, signature
included) goes as several messages split at paragraphs, lines or sentences; a caption longer
than 1,024 units is sent as a text of its own right after (in reply to) its media.

**Failures.** 429 waits exactly `retry_after`; network errors, timeouts and server errors are
retried with backoff (2 s doubling up to 5 min) for `give_up_after` (2 days), and the ticket's
topic is told once when a message to a customer has waited more than `delay_notice` (5 min).
A refusal for good (400 "message is too long", "can't parse entities", "chat not found", 403)
marks the row failed and tells the ticket's topic the reason and what to do; a supervisor who
cannot be reached (never started the bot) is named once in the staff group. 403 also marks the
customer unreachable. "message thread not found" re-creates the ticket's topic (with its card)
and sends there. A message waiting for a retry holds back the later messages of its chat.

Card refreshes (`refresh_card` rows, chat `STAFF_GROUP`) are paced as messages into the staff
group; several due for one ticket in a round are done once (the card is rendered from the
ticket as stored now). Without a staff group they are simply marked done.

Pacing: `bot/telegram/pacing.py` (per process, or shared through Redis): each chat's pace
and about 30 messages a second over all chats; a round takes no more than the overall limit
allows, so a broadcast of thousands goes at that rate while the conversation lane, read first,
gets the next free slots.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
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
from bot.ops.metrics import record_delivery
from bot.services.analytics.digest import DIGEST
from bot.services.desk.topics import OPEN_TOPIC
from bot.services.outbox import (
    INCIDENT_RESOLVED,
    INCIDENT_UPDATE,
    NOTICE,
    REFRESH_CARD,
    STAFF_GROUP,
    enqueue_card_refresh,
    enqueue_notice,
)
from bot.services.privacy_topics import DELETE_TOPIC
from bot.telegram.html_text import fits, split_html
from bot.telegram.pacing import Pacer
from bot.telegram.text_limits import CAPTION_LIMIT, TEXT_LIMIT
from storage.delivery_store import DeliveryStore, NewLink, SentRow
from storage.outbox_models import OutboxMessage
from storage.unit_of_work import Database

__all__ = ["SENDERS", "DeliveryWorker", "Pacer", "TicketThreads", "stop_worker"]

log = logging.getLogger(__name__)

MEDIA_GROUP_LIMIT = 10
HTML = ParseMode.HTML
MAX_BACKOFF = timedelta(minutes=5)
PER_CHAT = 20  # rows of one chat a round may take (more when the group allows more a minute)
_INPUT_MEDIA: dict[str, Any] = {
    "photo": InputMediaPhoto,
    "video": InputMediaVideo,
    "document": InputMediaDocument,
    "audio": InputMediaAudio,
}
# Telegram's words for a refusal -> the catalogue's reason and way on (`delivery.*`).
_REASONS = (
    ("too long", "too_long"),
    ("can't parse entities", "formatting"),
    ("chat not found", "chat_missing"),
    ("user is deactivated", "chat_missing"),
    ("can't be copied", "not_copyable"),
    ("message to edit not found", "edit_missing"),
    ("message can't be edited", "edit_missing"),
)


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


def _reply_to(message_id: Any) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=int(message_id), allow_sending_without_reply=True)


def _reply(payload: dict[str, Any]) -> ReplyParameters | None:
    return _reply_to(payload.get("reply_to"))


def _is_thread_lost(error: TelegramBadRequest) -> bool:
    return "message thread not found" in error.message.lower()


def _is_not_modified(error: TelegramBadRequest) -> bool:
    return "message is not modified" in error.message.lower()


def _reason(description: str) -> str:
    lowered = description.lower()
    for words, reason in _REASONS:
        if words in lowered:
            return reason
    return "other"


def _source(row: OutboxMessage) -> tuple[int, int] | None:
    """(source chat, source message id) of a relayed message, for ordering within a chat."""
    payload = row.payload
    link = payload.get("link")
    if link:
        return int(link["source_chat_id"]), int(link["source_message_id"])
    if row.kind == "media_group" and payload.get("source_chat_id") is not None:
        ids = [
            int(i["source_message_id"])
            for i in payload.get("items", [])
            if i.get("source_message_id")
        ]
        if ids:
            return int(payload["source_chat_id"]), min(ids)
    return None


def in_source_order(rows: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """`rows` with the messages relayed from one source chat into one chat put in the order
    they were sent there (by source message id), each keeping the places they took."""
    places: dict[tuple[int, int], list[int]] = {}
    for index, row in enumerate(rows):
        source = _source(row)
        if source is not None:
            places.setdefault((row.chat_id, source[0]), []).append(index)
    ordered = list(rows)
    for indexes in places.values():
        if len(indexes) < 2:
            continue
        by_source = sorted((rows[i] for i in indexes), key=lambda row: _source(row) or (0, 0))
        for index, row in zip(indexes, by_source, strict=True):
            ordered[index] = row
    return ordered


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
        wake: asyncio.Event | None = None,
        batch_size: int = 200,
        lease: timedelta = timedelta(seconds=30),
        give_up_after: timedelta = timedelta(days=2),
        delay_notice: timedelta = timedelta(minutes=5),
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
        self._give_up_after = give_up_after
        self._delay_notice = delay_notice
        self._idle_poll = idle_poll
        # Set by `notify`; passed in when those who enqueue are built before the worker.
        self._wake = wake if wake is not None else asyncio.Event()
        self._full_round = False
        self._in_flight: set[int] = set()

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
        """0 after a full round; else until the next row falls due or a paced chat frees
        (a row due now in a paced chat must not make the loop spin)."""
        if self._full_round:
            return 0.0
        now = self._clock.now()
        due = await self._store.next_due_after(now=now)
        candidates = [moment for moment in (due, self.pacer.earliest_slot()) if moment is not None]
        if not candidates:
            return self._idle_poll
        delta = (min(candidates) - now).total_seconds()
        return min(max(delta, 0.0), self._idle_poll)

    def _pacing_chat(self, chat_id: int) -> int:
        if chat_id == STAFF_GROUP and self._staff_chat_id is not None:
            return self._staff_chat_id
        return chat_id

    def _paced(self, now: datetime) -> list[int]:
        paced = self.pacer.paced_chats(now)
        if self._staff_chat_id is not None and self._staff_chat_id in paced:
            paced.append(STAFF_GROUP)
        return paced

    def _choose(
        self, now: datetime, coalesced: list[int]
    ) -> Callable[[Sequence[OutboxMessage]], list[OutboxMessage]]:
        per_chat = self._per_chat

        def choose(rows: Sequence[OutboxMessage]) -> list[OutboxMessage]:
            chosen: list[OutboxMessage] = []
            room: dict[int, int] = {}
            overall = self.pacer.overall_allowance(now, self._batch_size)
            refreshed: set[int] = set()
            for row in in_source_order(rows):
                assert row.id is not None
                if row.kind == REFRESH_CARD and (
                    row.ticket_id is None or self.threads is None or row.ticket_id in refreshed
                ):
                    coalesced.append(row.id)
                    continue
                chat = self._pacing_chat(row.chat_id)
                if chat not in room:
                    room[chat] = self.pacer.allowance(chat, now, per_chat)
                if room[chat] <= 0 or overall <= 0:
                    continue
                room[chat] -= 1
                overall -= 1
                if row.kind == REFRESH_CARD:
                    assert row.ticket_id is not None
                    refreshed.add(row.ticket_id)
                chosen.append(row)
            # More may be due right away (never when nothing could go: no busy loop).
            self._full_round = len(rows) >= self._batch_size and bool(chosen)
            return chosen

        return choose

    @property
    def _per_chat(self) -> int:
        return max(self.pacer.group_limit, PER_CHAT)

    async def run_once(self) -> int:
        """Deliver everything due now that pacing allows; returns how many were delivered."""
        now = self._clock.now()
        coalesced: list[int] = []
        self._full_round = False
        rows = await self._store.claim_due(
            now=now,
            limit=self._batch_size,
            per_chat=self._per_chat,
            paced=self._paced(now),
            lease_until=now + self._lease,
            choose=self._choose(now, coalesced),
        )
        if coalesced:
            await self._store.finish(
                now=now, sent=[SentRow(row_id, None) for row_id in coalesced], links=[], released=[]
            )
        if not rows:
            return 0
        self._in_flight = {row.id for row in rows if row.id is not None}
        keeper = asyncio.create_task(self._keep_leases())
        try:
            return await self._deliver(rows, now)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self._in_flight = set()

    async def _deliver(self, rows: Sequence[OutboxMessage], now: datetime) -> int:
        released: list[int] = []
        stopped: set[int] = set()  # chats whose earlier message failed or is paced this round
        delivered = 0
        for row in rows:
            assert row.id is not None
            chat = self._pacing_chat(row.chat_id)
            if row.chat_id in stopped or self.pacer.overall_slot(now) is not None:
                # Keeps the chat's order behind the held message; or every chat waits for
                # the overall limit (the round's rows go back to the queue, in order).
                released.append(row.id)
                continue
            if row.kind == REFRESH_CARD:
                slot = self.pacer.next_slot(chat, now)  # the refresh records its own calls
            else:
                slot = await self.pacer.acquire(chat, now)
            if slot is not None:
                stopped.add(row.chat_id)
                released.append(row.id)
                continue
            outcome = await self._attempt(row, now)
            self._in_flight.discard(row.id)
            if outcome is None:
                stopped.add(row.chat_id)
                continue
            delivered += 1
            record_delivery("sent")
            await self._store.finish(
                now=now,
                sent=[SentRow(row.id, outcome.message_ids[0] if outcome.message_ids else None)],
                links=self._new_links(row, outcome),
                released=[],
            )
        await self._store.finish(now=now, sent=[], links=[], released=released)
        return delivered

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                await self.renew_leases()
            except Exception:
                log.exception("outbox leases not renewed")

    async def renew_leases(self) -> None:
        """Extend the lease of the rows this round is still sending."""
        await self._store.renew(
            ids=sorted(self._in_flight), lease_until=self._clock.now() + self._lease
        )

    async def _attempt(self, row: OutboxMessage, now: datetime) -> _Sent | None:
        """Send one claimed row; None when it failed (already rescheduled or marked failed)."""
        assert row.id is not None
        try:
            try:
                return await self._send(row)
            except TelegramBadRequest as error:
                if not (_is_thread_lost(error) and row.ticket_id and self.threads):
                    raise
                await self.threads.thread_lost(row.ticket_id, row.thread_id)
                return await self._send(row)
        except TelegramRetryAfter as error:
            record_delivery("429")
            at = now + timedelta(seconds=error.retry_after)
            await self._retry(row, now, at, error.message)
        except TelegramForbiddenError as error:
            record_delivery("403")
            await self._refused(row, now, error.message, forbidden=True)
        except TelegramBadRequest as error:
            if _is_not_modified(error):
                return _Sent([])
            log.warning("outbox %s (%s) refused: %s", row.id, row.kind, error.message)
            await self._refused(row, now, error.message)
        except (TelegramAPIError, OSError, TimeoutError) as error:
            await self._backoff(row, now, getattr(error, "message", None) or repr(error))
        except Exception as error:
            log.exception("outbox %s (%s) failed unexpectedly", row.id, row.kind)
            await self._backoff(row, now, repr(error))
        return None

    async def _send(self, row: OutboxMessage) -> _Sent:
        thread = row.thread_id
        if row.payload.get("ticket_topic") and row.ticket_id is not None and self.threads:
            thread = await self.threads.thread_for(row.ticket_id)
            row.thread_id = thread
        sender = SENDERS.get(row.kind)
        if sender is None:
            raise ValueError(f"unknown outbox kind {row.kind!r}")
        return await sender(self, row, thread)

    # ------------------------------------------------------------------------- senders

    async def _texts(
        self,
        chat_id: int,
        thread: int | None,
        html: str,
        *,
        reply: ReplyParameters | None = None,
        buttons: InlineKeyboardMarkup | None = None,
        silent: bool | None = None,
    ) -> list[int]:
        """One HTML text as one message, or several when it is longer than Telegram allows
        (the reply goes with the first part, the buttons with the last)."""
        parts = split_html(html, TEXT_LIMIT)
        ids: list[int] = []
        for index, part in enumerate(parts):
            message = await self._bot.send_message(
                chat_id,
                part,
                parse_mode=HTML,
                message_thread_id=thread,
                reply_markup=buttons if index == len(parts) - 1 else None,
                reply_parameters=reply if index == 0 else None,
                disable_notification=silent,
            )
            ids.append(message.message_id)
        return ids

    async def _send_text(self, row: OutboxMessage, thread: int | None) -> _Sent:
        payload = row.payload
        return _Sent(
            await self._texts(
                row.chat_id,
                thread,
                payload["html"],
                reply=_reply(payload),
                buttons=_markup(payload.get("buttons")),
                silent=bool(payload.get("silent")) or None,
            )
        )

    async def _send_copy(self, row: OutboxMessage, thread: int | None) -> _Sent:
        payload = row.payload
        caption: str | None = payload.get("caption")
        apart = caption is not None and not fits(caption, CAPTION_LIMIT)
        extra: dict[str, Any] = {}
        if caption is not None:
            extra["caption"] = "" if apart else caption
            extra["parse_mode"] = HTML
        copied = await self._bot.copy_message(
            row.chat_id,
            int(payload["from_chat_id"]),
            int(payload["message_id"]),
            message_thread_id=thread,
            reply_parameters=_reply(payload),
            disable_notification=bool(payload.get("silent")) or None,
            **extra,
        )
        ids = [copied.message_id]
        if apart:
            assert caption is not None
            ids += await self._texts(
                row.chat_id, thread, caption, reply=_reply_to(copied.message_id)
            )
        return _Sent(ids)

    async def _send_media_group(self, row: OutboxMessage, thread: int | None) -> _Sent:
        payload = row.payload
        items: list[dict[str, Any]] = [dict(item) for item in payload.get("items", [])]
        apart: dict[int, str] = {}  # item index -> its caption, too long to go with it
        for index, item in enumerate(items):
            caption = item.get("caption")
            if caption and not fits(caption, CAPTION_LIMIT):
                apart[index] = item.pop("caption")
        ids: list[int] = []
        reply = _reply(payload)
        for start in range(0, len(items), MEDIA_GROUP_LIMIT):
            chunk = items[start : start + MEDIA_GROUP_LIMIT]
            if len(chunk) == 1:
                ids.append(await self._send_single(row.chat_id, thread, chunk[0], reply))
                continue
            media = [
                _INPUT_MEDIA[item["type"]](
                    media=item["file_id"], caption=item.get("caption"), parse_mode=HTML
                )
                for item in chunk
            ]
            messages = await self._bot.send_media_group(
                row.chat_id, media, message_thread_id=thread, reply_parameters=reply
            )
            ids.extend(message.message_id for message in messages)
        for index, caption in apart.items():
            target = ids[index] if index < len(ids) else None
            ids += await self._texts(row.chat_id, thread, caption, reply=_reply_to(target))
        return _Sent(ids)

    async def _send_digest(self, row: OutboxMessage, thread: int | None) -> _Sent:
        """The weekly digest: its text, then its chart (a PNG carried in the payload)."""
        payload = row.payload
        ids = await self._texts(row.chat_id, thread, payload["html"])
        if payload.get("photo"):
            picture = BufferedInputFile(base64.b64decode(payload["photo"]), filename="digest.png")
            sent = await self._bot.send_photo(
                row.chat_id, picture, caption=payload.get("caption"), message_thread_id=thread
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
        return int(message.message_id)

    async def _send_edit_text(self, row: OutboxMessage, thread: int | None) -> _Sent:
        payload = row.payload
        await self._bot.edit_message_text(
            payload["html"],
            parse_mode=HTML,
            chat_id=row.chat_id,
            message_id=int(payload["message_id"]),
            reply_markup=_markup(payload.get("buttons")),
        )
        return _Sent([])

    async def _send_edit_caption(self, row: OutboxMessage, thread: int | None) -> _Sent:
        payload = row.payload
        await self._bot.edit_message_caption(
            chat_id=row.chat_id,
            message_id=int(payload["message_id"]),
            caption=payload["html"],
            parse_mode=HTML,
        )
        return _Sent([])

    async def _send_refresh(self, row: OutboxMessage, thread: int | None) -> _Sent:
        if self.threads is not None and row.ticket_id is not None:
            await self.threads.refresh(row.ticket_id)
        return _Sent([])

    async def _send_delete_topic(self, row: OutboxMessage, thread: int | None) -> _Sent:
        """After an erasure with ERASE_TOPICS=delete: the customer's topic goes."""
        await self._bot.delete_forum_topic(row.chat_id, int(row.payload["thread_id"]))
        return _Sent([])

    async def _send_nothing(self, row: OutboxMessage, thread: int | None) -> _Sent:
        """`open_topic`: the ticket's topic and card were made when its thread was looked up."""
        return _Sent([])

    # -------------------------------------------------------------------------- links

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
            # The first message stands for the original: an edit of the original edits it
            # (not the later parts of a split text, nor a caption sent apart).
            return [
                (int(link["source_chat_id"]), int(link["source_message_id"]), sent.message_ids[0])
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

    # ------------------------------------------------------------------------ failures

    def _staff_text(self, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, self._staff_locale, **params)

    def _agent_message(self, row: OutboxMessage) -> int | None:
        """The agent's message in the topic this row carries to the customer, if any."""
        link = row.payload.get("link")
        if link and link.get("source_chat_id") == self._staff_chat_id:
            return int(link["source_message_id"])
        return None

    async def _backoff(self, row: OutboxMessage, now: datetime, error: str) -> None:
        """A transient failure: try again later, for as long as `give_up_after`."""
        if now - row.created_at >= self._give_up_after:
            hours = int(self._give_up_after.total_seconds() // 3600)
            await self._refused(row, now, error, reason="gave_up", hours=hours)
            return
        record_delivery("retried")
        delay = min(timedelta(seconds=2 ** min(row.attempts + 1, 20)), MAX_BACKOFF)
        await self._retry(row, now, now + delay, error)

    async def _retry(self, row: OutboxMessage, now: datetime, at: datetime, error: str) -> None:
        assert row.id is not None
        async with self._database.unit_of_work() as uow:
            await uow.delivery.reschedule(message_id=row.id, at=at, error=error)
            waited = now - row.created_at
            # Told once the message has waited `delay_notice`, or at once when Telegram asks
            # for a long wait (flood control) that will make it wait twice as long.
            long_wait = (
                waited >= self._delay_notice or at - row.created_at >= 2 * self._delay_notice
            )
            if (
                not long_wait
                or row.ticket_id is None
                or row.chat_id <= 0
                or self._staff_chat_id is None
            ):
                return
            await enqueue_notice(
                uow,
                key=f"delayed:{row.id}",
                chat_id=self._staff_chat_id,
                html=self._staff_text(
                    "delivery.delayed",
                    minutes=self._catalogs.count(
                        "count.minutes", self._staff_locale, int(waited.total_seconds() // 60)
                    ),
                    error=error,
                ),
                now=now,
                ticket_id=row.ticket_id,
                ticket_topic=True,
                reply_to=self._agent_message(row),
            )
        self.notify()

    async def _refused(
        self,
        row: OutboxMessage,
        now: datetime,
        error: str,
        *,
        forbidden: bool = False,
        reason: str | None = None,
        hours: int = 0,
    ) -> None:
        """A refusal for good: the row is failed and whoever can act on it is told."""
        assert row.id is not None
        async with self._database.unit_of_work() as uow:
            await uow.delivery.mark_failed(message_id=row.id, error=error)
            record_delivery("failed")
            if row.chat_id <= 0 or self._staff_chat_id is None:
                log.warning("outbox %s to chat %s failed for good: %s", row.id, row.chat_id, error)
                return
            customer = await uow.customers.by_telegram_id(telegram_id=row.chat_id)
            if customer is None:
                # Not a customer: a supervisor or an agent written to privately.
                await enqueue_notice(
                    uow,
                    key=f"recipient-unreachable:{row.chat_id}",
                    chat_id=self._staff_chat_id,
                    html=self._staff_text("delivery.recipient_unreachable", who=row.chat_id),
                    now=now,
                )
            elif forbidden:
                await self._customer_blocked(uow, row, customer, now)
            elif row.ticket_id is not None:
                cause = reason or _reason(error)
                await enqueue_notice(
                    uow,
                    key=f"undelivered:{row.id}",
                    chat_id=self._staff_chat_id,
                    html=self._staff_text(
                        "delivery.failed",
                        reason=self._catalogs.plain(
                            f"delivery.reason.{cause}",
                            self._staff_locale,
                            hours=self._catalogs.count("count.hours", self._staff_locale, hours),
                        ),
                        error=error,
                        hint=self._catalogs.plain(f"delivery.hint.{cause}", self._staff_locale),
                    ),
                    now=now,
                    ticket_id=row.ticket_id,
                    ticket_topic=True,
                    reply_to=self._agent_message(row),
                )
        self.notify()

    async def _customer_blocked(
        self, uow: Any, row: OutboxMessage, customer: Any, now: datetime
    ) -> None:
        if not customer.is_unreachable:
            customer.is_unreachable = True
            customer.updated_at = now
            await uow.customers.save(customer=customer)
        if row.ticket_id is None:
            return
        await enqueue_card_refresh(uow, ticket_id=row.ticket_id, now=now)
        if not row.payload.get("notify_forbidden", True):
            return
        await enqueue_notice(
            uow,
            key=f"unreachable:{row.id}",
            chat_id=self._staff_chat_id or 0,
            html=self._catalogs.render("desk.notice.unreachable", self._staff_locale),
            now=now,
            ticket_id=row.ticket_id,
            ticket_topic=True,
            reply_to=self._agent_message(row),
        )


Sender = Callable[[DeliveryWorker, OutboxMessage, "int | None"], Awaitable[_Sent]]
# How each kind is sent (a kind's lane is in `storage/outbox_models.py` `LANES`).
SENDERS: dict[str, Sender] = {
    "text": DeliveryWorker._send_text,
    NOTICE: DeliveryWorker._send_text,
    INCIDENT_UPDATE: DeliveryWorker._send_text,
    INCIDENT_RESOLVED: DeliveryWorker._send_text,
    DIGEST: DeliveryWorker._send_digest,
    "copy": DeliveryWorker._send_copy,
    "media_group": DeliveryWorker._send_media_group,
    "edit_text": DeliveryWorker._send_edit_text,
    "edit_caption": DeliveryWorker._send_edit_caption,
    REFRESH_CARD: DeliveryWorker._send_refresh,
    OPEN_TOPIC: DeliveryWorker._send_nothing,
    DELETE_TOPIC: DeliveryWorker._send_delete_topic,
}


async def stop_worker(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task
