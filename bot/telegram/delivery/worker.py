"""The delivery worker's loop and rounds: claim what is due, send each chat's rows in order
(chats side by side), record every sent message right after Telegram's answer (see the
package's docstring for the guarantees)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)

from bot.domain.clock import Clock
from bot.locales.catalog import Catalogs
from bot.ops.metrics import record_delivery
from bot.services.outbox import REFRESH_CARD, STAFF_GROUP
from bot.telegram.delivery.failures import Failures
from bot.telegram.delivery.links import new_links
from bot.telegram.delivery.ordering import in_source_order
from bot.telegram.delivery.senders import SENDERS, Sent, TicketThreads
from bot.telegram.pacing import Pacer
from storage.delivery_store import DeliveryStore, SentRow
from storage.outbox_models import OutboxMessage
from storage.unit_of_work import Database

log = logging.getLogger(__name__)

PER_CHAT = 20  # rows of one chat a round may take (more when the group allows more a minute)
# Chains sent side by side in a round: a chat's rows, or in the staff group a ticket's, always
# go one after the other.
CHATS_AT_ONCE = 8


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
        wake: asyncio.Event | None = None,
        batch_size: int = 200,
        lease: timedelta = timedelta(seconds=30),
        give_up_after: timedelta = timedelta(days=2),
        delay_notice: timedelta = timedelta(minutes=5),
        idle_poll: float = 5.0,
        only_claimer: bool = False,
    ) -> None:
        """`only_claimer`: this is the only instance, no other process claims rows
        (`DeliveryStore`)."""
        self.bot = bot
        self._store = DeliveryStore(database, only_claimer=only_claimer)
        self._clock = clock
        self._staff_chat_id = staff_chat_id
        self.pacer = pacer or Pacer()
        self.threads = threads
        self._batch_size = batch_size
        self._lease = lease
        self._idle_poll = idle_poll
        self._failures = Failures(
            database,
            catalogs,
            staff_chat_id=staff_chat_id,
            staff_locale=staff_locale,
            give_up_after=give_up_after,
            delay_notice=delay_notice,
            notify=self.notify,
        )
        # Set by `notify`; passed in when those who enqueue are built before the worker.
        self._wake = wake if wake is not None else asyncio.Event()
        self._full_round = False
        self._in_flight: set[int] = set()

    def notify(self) -> None:
        """Something was enqueued: deliver without waiting for the next poll."""
        self._wake.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the round reads the queue: a row enqueued while the round runs
            # wakes the next round instead of waiting for the idle poll.
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox delivery round failed")
            if self._wake.is_set():
                continue  # rows were queued while the round ran: the next round at once
            timeout = await self._seconds_to_next()
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
            # More may be due right away: the round read as many rows as it may, or as many
            # of a chat as one round takes while its pace allows more (never when nothing
            # could go, nor for a chat that only its pace holds back: no busy loop).
            counts = Counter(self._pacing_chat(row.chat_id) for row in rows)
            cut = any(
                count >= per_chat and self.pacer.allowance(chat, now, per_chat + 1) > per_chat
                for chat, count in counts.items()
            )
            self._full_round = (len(rows) >= self._batch_size or cut) and bool(chosen)
            return chosen

        return choose

    def _chain(self, row: OutboxMessage) -> tuple[int, int | None]:
        """Rows that must go one after the other: a chat's, and in the staff group a
        ticket's (its topic), so the group's tickets are sent to side by side."""
        chat = self._pacing_chat(row.chat_id)
        ticket = row.ticket_id if row.chat_id in (STAFF_GROUP, self._staff_chat_id) else None
        return chat, ticket

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
        """Each chat's rows in order, chats side by side (at most `CHATS_AT_ONCE`); the rows
        not tried go back to the queue."""
        chains: dict[tuple[int, int | None], list[OutboxMessage]] = {}
        for row in rows:
            chains.setdefault(self._chain(row), []).append(row)
        released: list[int] = []
        turns = asyncio.Semaphore(CHATS_AT_ONCE)

        async def deliver_chain(chain: list[OutboxMessage]) -> int:
            async with turns:
                return await self._deliver_chain(chain, now, released)

        try:
            delivered = await asyncio.gather(*(deliver_chain(chain) for chain in chains.values()))
        finally:
            await self._store.finish(now=now, sent=[], links=[], released=released)
        return sum(delivered)

    async def _deliver_chain(
        self, chain: Sequence[OutboxMessage], now: datetime, released: list[int]
    ) -> int:
        stopped: set[int] = set()  # chats whose earlier message failed or is paced this round
        delivered = 0
        for row in chain:
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
            await self._store.record_sent(
                now=now,
                sent=SentRow(row.id, outcome.message_ids[0] if outcome.message_ids else None),
                links=new_links(row, outcome, self._staff_chat_id),
            )
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

    async def _attempt(self, row: OutboxMessage, now: datetime) -> Sent | None:
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
            await self._failures.retry(row, now, at, error.message)
        except TelegramForbiddenError as error:
            record_delivery("403")
            await self._failures.refused(row, now, error.message, forbidden=True)
        except TelegramBadRequest as error:
            if _is_not_modified(error):
                return Sent([])
            log.warning("outbox %s (%s) refused: %s", row.id, row.kind, error.message)
            await self._failures.refused(row, now, error.message)
        except (TelegramAPIError, OSError, TimeoutError) as error:
            await self._failures.backoff(row, now, getattr(error, "message", None) or repr(error))
        except Exception as error:
            log.exception("outbox %s (%s) failed unexpectedly", row.id, row.kind)
            await self._failures.backoff(row, now, repr(error))
        return None

    async def _send(self, row: OutboxMessage) -> Sent:
        thread = row.thread_id
        if row.payload.get("ticket_topic") and row.ticket_id is not None and self.threads:
            thread = await self.threads.thread_for(row.ticket_id)
            row.thread_id = thread
        sender = SENDERS.get(row.kind)
        if sender is None:
            raise ValueError(f"unknown outbox kind {row.kind!r}")
        return await sender(self, row, thread)


async def stop_worker(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task
