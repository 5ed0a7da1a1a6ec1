"""`/healthz` and `/metrics` over HTTP (aiohttp): on the webhook server in webhook mode,
otherwise on a server of their own at `METRICS_PORT` (off unless set)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.domain.clock import Clock
from bot.domain.tickets import TicketStatus
from bot.ops.metrics import LOOP_LAG, OPEN_TICKETS, OUTBOX_DEPTH, OUTBOX_OLDEST_DUE_AGE, REGISTRY
from storage.ops_queries import desk_gauges, ping
from storage.unit_of_work import Database

if TYPE_CHECKING:
    from aiogram.methods.base import Response

log = logging.getLogger(__name__)

API_FRESH = timedelta(minutes=1)
CHECK_TIMEOUT = 5.0
LAG_INTERVAL = 0.5


class ApiMonitor(BaseRequestMiddleware):
    """Remembers when the Bot API last answered (any answer, errors included: it is up)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.last_answer: datetime | None = None

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

        try:
            response = await make_request(bot, method)
        except TelegramNetworkError:
            raise
        except TelegramAPIError:
            self.last_answer = self._clock.now()
            raise
        self.last_answer = self._clock.now()
        return response


class Ops:
    """Health checks and metrics of one running app."""

    def __init__(
        self,
        *,
        bot: Bot,
        database: Database,
        clock: Clock,
        worker_alive: Callable[[], bool],
    ) -> None:
        self.bot = bot
        self.database = database
        self.clock = clock
        self.worker_alive = worker_alive
        self.api = ApiMonitor(clock)
        bot.session.middleware(self.api)
        self._lag_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # ------------------------------------------------------------------------ checks

    async def _database_ok(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await ping(self.database.engine)
        except Exception as error:
            log.warning("health: database unreachable: %r", error)
            return False
        return True

    async def _api_ok(self) -> bool:
        last = self.api.last_answer
        if last is not None and self.clock.now() - last <= API_FRESH:
            return True
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self.bot.get_me()
        except Exception as error:
            log.warning("health: Bot API unreachable: %r", error)
            return False
        return True

    async def health(self) -> tuple[bool, dict[str, bool]]:
        checks = {
            "database": await self._database_ok(),
            "bot_api": await self._api_ok(),
            "delivery_worker": self.worker_alive(),
        }
        return all(checks.values()), checks

    async def refresh_gauges(self) -> None:
        """Read the state-describing gauges from the database (at scrape time)."""
        now = self.clock.now()
        open_statuses = [s.value for s in TicketStatus if s is not TicketStatus.CLOSED]
        gauges = await desk_gauges(self.database.engine, now=now, statuses=open_statuses)
        OUTBOX_DEPTH.set(gauges.outbox_depth)
        oldest = gauges.oldest_due
        OUTBOX_OLDEST_DUE_AGE.set(max((now - oldest).total_seconds(), 0) if oldest else 0)
        counts = dict.fromkeys(open_statuses, 0) | gauges.open_by_status
        for status, count in counts.items():
            OPEN_TICKETS.labels(status).set(count)

    # -------------------------------------------------------------------------- HTTP

    async def healthz(self, _request: web.Request) -> web.Response:
        ok, checks = await self.health()
        body: dict[str, Any] = {"status": "ok" if ok else "failing", "checks": checks}
        return web.json_response(body, status=200 if ok else 503)

    async def metrics(self, _request: web.Request) -> web.Response:
        try:
            await self.refresh_gauges()
        except Exception:
            log.warning("metrics: could not read the database", exc_info=True)
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)

    async def serve(self, host: str, port: int) -> None:
        """A server of its own (polling mode); port 0 picks a free one (see `self.port`)."""
        app = web.Application()
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("health and metrics on http://%s:%s/healthz and /metrics", host, self.port)

    # -------------------------------------------------------------------- loop lag

    def start(self) -> None:
        self._lag_task = asyncio.create_task(self._measure_lag())

    async def _measure_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_INTERVAL)
            LOOP_LAG.set(max(loop.time() - started - LAG_INTERVAL, 0.0))

    async def stop(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_task
            self._lag_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
