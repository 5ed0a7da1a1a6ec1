"""Durable receipt of updates: stored in the inbox before Telegram is told they arrived.

Long polling confirms a batch of updates to Telegram with the *next* getUpdates (its offset);
a webhook confirms an update with its HTTP answer. Both happen here only after the batch is
committed to the inbox table, so a process killed at any moment loses nothing: what it had
stored and not yet handled is handled after the restart (or by another instance once the dead
one's lease runs out). Updates are then fed to aiogram's dispatcher, each as its own task (as
aiogram's polling does), and marked done. The update id is the inbox key, so an update
delivered twice is handled once; an update that cannot be parsed is kept as unreadable,
logged, and the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.domain.clock import Clock
from storage.inbox_store import Claimed, InboxStore, Received
from storage.unit_of_work import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
KEEP_HANDLED = timedelta(days=2)  # longer than Telegram keeps an unconfirmed update (24 h)
MAX_ATTEMPTS = 5  # an update whose handling killed the process this often is given up on
LEFT_OVER_BATCH = 100
# Polling pauses while this many updates are taken and not yet handled: a backlog waits at
# Telegram, unconfirmed, instead of in this process as tasks holding their parsed updates
# (about 26 KB each: a backlog of 2,300 grew the process by 60 MB, docs/benchmarks.md).
MAX_TAKEN = 200
# Updates handled side by side, each as its own task; the rest wait their turn in the order
# they came. Each spends most of its time waiting for the database, so a few keep the core
# busy; more only interleave: under the load bench (docs/benchmarks.md) a burst (the first
# seconds' first replies) stretched all 32 in flight (p99 52-539 ms in six runs, the slowest
# answer up to 944 ms); 8 take them in turn (p99 61-211 ms in the same six, up to 389 ms).
HANDLED_AT_ONCE = 8


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates answered as plain JSON objects: one malformed update must not make the whole
    batch unreadable (aiogram's own GetUpdates parses the batch at once)."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


def instance_name() -> str:
    """Who holds a claim: host, process and a random part (a restarted process is another
    instance)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Inbox:
    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        database: Database,
        clock: Clock,
        *,
        lease: timedelta,
        single_instance: bool,
        instance: str | None = None,
        concurrency: int = HANDLED_AT_ONCE,
        max_taken: int = MAX_TAKEN,
    ) -> None:
        self._bot = bot
        self._dispatcher = dispatcher
        self._clock = clock
        self._lease = lease
        self._single_instance = single_instance
        self.store = InboxStore(database, instance=instance or instance_name())
        self._running: dict[int, asyncio.Task[None]] = {}
        # At most this many updates are handled at once; the others wait their turn in order
        # and, when the bot stops, stay in the inbox for the next start instead of delaying it.
        self._slots = asyncio.Semaphore(concurrency)
        self._max_taken = max_taken
        self._room = asyncio.Event()  # set while fewer than `max_taken` are taken
        self._room.set()
        self._stopping = False
        self._last_prune: datetime | None = None

    @property
    def running(self) -> int:
        return len(self._running)

    # ------------------------------------------------------------------------------ receipt

    async def receive(self, raw_updates: Sequence[Any]) -> None:
        """Store a batch of updates as they came and start handling them. Raises when they
        could not be stored: then they must not be confirmed to Telegram."""
        received: list[Received] = []
        parsed: dict[int, Update] = {}
        for raw in raw_updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.error("an update without an update id was dropped: %.500r", raw)
                continue
            payload = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
            error = None
            try:
                parsed[update_id] = Update.model_validate(raw, context={"bot": self._bot})
            except ValidationError as invalid:
                error = str(invalid)[:2000]
                log.error("update %s cannot be read, kept as unreadable: %s", update_id, error)
            received.append(Received(update_id, payload, error))
        now = self._clock.now()
        claimed = await self.store.receive(received, now=now, lease_until=now + self._lease)
        self._start(claimed, parsed)

    async def take_left_over(self, *, at_start: bool = False) -> int:
        """Handle what is stored and not handled: at the start everything this (single)
        instance left; otherwise what a dead instance held when its lease ran out."""
        taken = 0
        take_all = at_start and self._single_instance
        while True:
            now = self._clock.now()
            claimed = await self.store.claim_left_over(
                now=now, lease_until=now + self._lease, limit=LEFT_OVER_BATCH, take_all=take_all
            )
            claimed = [c for c in claimed if c.update_id not in self._running]
            if not claimed:
                return taken
            if taken == 0:
                log.info("handling %d update(s) received earlier and not handled", len(claimed))
            taken += len(claimed)
            self._start(claimed)
            if len(claimed) < LEFT_OVER_BATCH:
                return taken
            take_all = False  # the next pages: only rows nobody holds

    def _start(self, claimed: Sequence[Claimed], parsed: dict[int, Update] | None = None) -> None:
        for item in claimed:
            if item.update_id in self._running:
                continue  # delivered again while it is being handled here
            update = parsed.get(item.update_id) if parsed else None
            task = asyncio.create_task(self._handle(item, update), name=f"update-{item.update_id}")
            self._running[item.update_id] = task
            task.add_done_callback(self._forget)
        if len(self._running) >= self._max_taken:
            self._room.clear()

    def _forget(self, task: asyncio.Task[None]) -> None:
        update_id = int(task.get_name().removeprefix("update-"))
        self._running.pop(update_id, None)
        if len(self._running) < self._max_taken:
            self._room.set()

    async def _handle(self, item: Claimed, update: Update | None) -> None:
        async with self._slots:
            if self._stopping:
                await self._hand_back(item.update_id)
                return
            await self._handle_now(item, update)

    async def _hand_back(self, update_id: int) -> None:
        try:
            await self.store.release(update_id, error=None)
        except Exception:
            log.exception("update %s could not be handed back; its lease runs out", update_id)

    async def _handle_now(self, item: Claimed, update: Update | None) -> None:
        now = self._clock.now()
        if item.attempts > MAX_ATTEMPTS:
            log.error("update %s given up after %d attempts", item.update_id, item.attempts - 1)
            await self.store.finish(item.update_id, now=now, error="too many attempts", failed=True)
            return
        try:
            if update is None:  # stored earlier: read it back
                update = Update.model_validate(json.loads(item.payload), context={"bot": self._bot})
        except (ValueError, ValidationError) as error:
            log.error("update %s cannot be read, kept as unreadable: %s", item.update_id, error)
            await self.store.mark_unreadable(item.update_id, error=str(error)[:2000], now=now)
            return
        try:
            response = await self._dispatcher.feed_update(
                self._bot, update, dispatcher=self._dispatcher, bots=[self._bot]
            )
            if isinstance(response, TelegramMethod):
                await self._dispatcher.silent_call_request(bot=self._bot, result=response)
        except Exception as error:
            # The error handler already ran (and kept a customer's message); this is what
            # escaped even that. Another attempt would most likely fail the same way.
            log.exception("update %s failed", item.update_id)
            await self._finish_quietly(item.update_id, error=repr(error)[:2000], failed=True)
            return
        await self._finish_quietly(item.update_id)

    async def _finish_quietly(
        self, update_id: int, *, error: str | None = None, failed: bool = False
    ) -> None:
        try:
            await self.store.finish(update_id, now=self._clock.now(), error=error, failed=failed)
        except Exception:
            # Handled but not marked: after the lease it is handled again, which the
            # handlers' own idempotency (message ids, outbox keys) makes harmless.
            log.exception("update %s handled but not marked done", update_id)

    # ------------------------------------------------------------------------- housekeeping

    async def keep_claims(self, stop: asyncio.Event) -> None:
        """While running: renew the leases of the updates being handled, take over those of
        dead instances, forget old handled updates."""
        interval = self._lease.total_seconds() / 3
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if stop.is_set():
                return
            try:
                now = self._clock.now()
                await self.store.renew(
                    update_ids=list(self._running), lease_until=now + self._lease
                )
                await self.take_left_over()
                if self._last_prune is None or now - self._last_prune > timedelta(hours=1):
                    self._last_prune = now
                    await self.store.prune(handled_before=now - KEEP_HANDLED)
            except Exception:
                log.exception("inbox housekeeping failed; it runs again shortly")

    async def drain(self, grace_seconds: float) -> bool:
        """Stop: wait for the updates being handled to finish and be marked (those still
        waiting for their turn are handed back to the inbox); False if time ran out."""
        self._stopping = True
        return await self.settle(grace_seconds)

    async def settle(self, timeout_seconds: float) -> bool:
        """Wait until every update taken so far is handled and marked; False on time out."""
        tasks = list(self._running.values())
        if not tasks:
            return True
        _done, pending = await asyncio.wait(tasks, timeout=timeout_seconds)
        return not pending

    # ------------------------------------------------------------------------------ sources

    async def poll(
        self,
        stop: asyncio.Event,
        *,
        allowed_updates: list[str] | None,
        long_poll_seconds: int = 10,
        backoff_max: float = 30.0,
    ) -> None:
        """Long polling until `stop` is set. Each batch is stored before the next request,
        whose offset confirms it to Telegram; a batch that could not be stored is asked for
        again (no offset moves past it)."""
        offset: int | None = None
        backoff = 0.5
        while not stop.is_set():
            if not self._room.is_set():
                await self._until_either(self._room, stop)
                continue
            request = asyncio.ensure_future(
                self._bot(
                    GetRawUpdates(
                        offset=offset, timeout=long_poll_seconds, allowed_updates=allowed_updates
                    ),
                    request_timeout=long_poll_seconds + 30,
                )
            )
            stopped = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({request, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
            if not request.done():
                # Nothing received is confirmed by dropping the request: Telegram gives the
                # same updates to the next poll.
                request.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await request
                return
            try:
                raw_updates = request.result()
            except (TelegramNetworkError, TelegramAPIError, OSError, TimeoutError) as err:
                log.warning("getUpdates failed (%s); trying again in %.1f s", err, backoff)
                await self._pause(stop, backoff)
                backoff = min(backoff * 2, backoff_max)
                continue
            try:
                if raw_updates:
                    await self.receive(raw_updates)
            except Exception:
                log.exception("updates could not be stored; asking for them again")
                await self._pause(stop, backoff)
                backoff = min(backoff * 2, backoff_max)
                continue
            backoff = 0.5
            ids = [
                u["update_id"]
                for u in raw_updates
                if isinstance(u, dict) and isinstance(u.get("update_id"), int)
            ]
            if ids:
                offset = max(ids) + 1

    @staticmethod
    async def _until_either(first: asyncio.Event, second: asyncio.Event) -> None:
        waits = {asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    def webhook_handler(self, secret: str | None) -> Any:
        """An aiohttp handler: answers 200 only once the update is stored (Telegram sends it
        again on any other answer)."""

        async def handle(request: web.Request) -> web.StreamResponse:
            given = request.headers.get(SECRET_HEADER, "")
            if secret is not None and not hmac.compare_digest(given, secret):
                return web.Response(status=401, text="Unauthorized")
            try:
                raw = await request.json()
            except ValueError:
                log.error("the webhook got a body that is not JSON")
                return web.Response(status=400, text="not JSON")
            if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
                log.error("the webhook got an update without an update id: %.500r", raw)
                return web.Response(status=400, text="no update_id")
            await self.receive([raw])
            return web.Response(status=200)

        return handle
