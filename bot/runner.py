"""Running the application: migrations, command menu, polling or webhook, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import App, build_app, register_commands
from bot.config import Settings
from bot.domain.clock import Clock
from bot.jobs.digest import DigestScheduler, build_digest_job
from bot.jobs.scheduler import SweepScheduler, build_runner
from bot.ops.heap import freeze_startup_heap
from bot.ops.server import Ops
from bot.telegram.inbox import Inbox
from storage.migrate import upgrade_database

log = logging.getLogger("bot")

SHUTDOWN_GRACE_SECONDS = 15.0


async def prepare(app: App) -> None:
    await app.claim_instance()
    await upgrade_database(app.database.engine)
    await register_commands(app)


def build_inbox(app: App) -> Inbox:
    return Inbox(
        app.bot,
        app.dispatcher,
        app.database,
        app.clock,
        lease=timedelta(seconds=app.settings.inbox_lease_seconds),
        single_instance=app.database.dialect == "sqlite",
    )


def webhook_path(url: str) -> str:
    """The path the webhook server listens on: the one of the URL given to Telegram."""
    return urlsplit(url).path or "/"


async def run(
    settings: Settings,
    *,
    clock: Clock | None = None,
    on_started: Callable[[App], Awaitable[None]] | None = None,
) -> None:
    """``clock`` and ``on_started`` (called once the bot is up) let the sandbox run the bot
    on its own clock and reach the running app."""
    app = build_app(settings, clock=clock)
    ops = Ops(
        bot=app.bot,
        database=app.database,
        clock=app.clock,
        worker_alive=lambda: app.staff is not None and app.staff.delivering,
    )
    sweeps = SweepScheduler(
        build_runner(
            settings,
            app.database,
            app.clock,
            app.tickets.sla,
            app.catalogs,
            app.staff.incidents.service if app.staff and app.staff.incidents else None,
        ),
        settings.sweep_interval_seconds,
    )
    inbox = build_inbox(app)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    housekeeping: asyncio.Task[None] | None = None
    # The digest asks the sweeps' lock, so only the instance running the sweeps sends it.
    digest_job = build_digest_job(
        settings,
        app.database,
        app.clock,
        app.tickets.sla,
        app.catalogs,
        sweeps.runner.leadership,
    )
    digest = DigestScheduler(digest_job) if digest_job is not None else None
    try:
        await prepare(app)
        sweeps.start()
        if digest is not None:
            digest.start()
        if app.staff is not None:
            app.staff.start()
        ops.start()
        if settings.metrics_port is not None and not settings.webhook_url:
            await ops.serve(settings.metrics_host, settings.metrics_port)
        me = await app.bot.get_me()
        mode = "webhook" if settings.webhook_url else "polling"
        log.info(
            "@%s started (%s, database %s, staff chat %s)",
            me.username,
            mode,
            app.database.engine.url.render_as_string(hide_password=True),
            settings.staff_chat_id or "not set",
        )
        log.info("start-up heap frozen: %d objects", freeze_startup_heap())
        await inbox.take_left_over(at_start=True)
        housekeeping = asyncio.create_task(inbox.keep_claims(stop))
        if on_started is not None:
            await on_started(app)
        if settings.webhook_url:
            await _run_webhook(app, settings, inbox, stop, ops)
        else:
            # Each batch is stored in the inbox before the next poll confirms it to Telegram.
            await inbox.poll(stop, allowed_updates=app.dispatcher.resolve_used_update_types())
        log.info("stopping: finishing %d update(s) being handled", inbox.running)
        # Updates already taken are finished before the bot session closes.
        if not await inbox.drain(SHUTDOWN_GRACE_SECONDS):
            log.warning("%d update(s) still running at shutdown", inbox.running)
        await app.in_flight.drain(SHUTDOWN_GRACE_SECONDS)
    finally:
        stop.set()
        if housekeeping is not None:
            with contextlib.suppress(Exception):
                await housekeeping
        await ops.stop()
        if digest is not None:
            await digest.stop()
        await sweeps.stop()
        await app.close()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signal_number)
        log.info("stopped")


async def _run_webhook(
    app: App, settings: Settings, inbox: Inbox, stop: asyncio.Event, ops: Ops | None = None
) -> None:
    assert settings.webhook_url is not None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    await app.bot.set_webhook(
        str(settings.webhook_url),
        secret_token=secret,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )
    path = webhook_path(settings.webhook_url)
    web_app = web.Application()
    web_app.router.add_post(path, inbox.webhook_handler(secret))
    if ops is not None:
        ops.add_routes(web_app)  # /healthz and /metrics next to the webhook
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    log.info("webhook listening on %s:%s%s", settings.webhook_host, settings.webhook_port, path)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
