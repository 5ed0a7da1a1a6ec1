"""Running the application: migrations, command menu, polling or webhook, clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import App, build_app, register_commands
from bot.config import Settings
from bot.domain.clock import Clock
from bot.jobs.scheduler import SweepScheduler, build_runner
from storage.migrate import upgrade_database

log = logging.getLogger("bot")

SHUTDOWN_GRACE_SECONDS = 15.0


async def prepare(app: App) -> None:
    await upgrade_database(app.database.engine)
    await register_commands(app)


async def run(
    settings: Settings,
    *,
    clock: Clock | None = None,
    on_started: Callable[[App], Awaitable[None]] | None = None,
) -> None:
    """``clock`` and ``on_started`` (called once the bot is up) let the sandbox run the bot
    on its own clock and reach the running app."""
    app = build_app(settings, clock=clock)
    sweeps = SweepScheduler(
        build_runner(settings, app.database, app.clock, app.tickets.sla, app.catalogs),
        settings.sweep_interval_seconds,
    )
    try:
        await prepare(app)
        sweeps.start()
        if app.staff is not None:
            app.staff.start()
        me = await app.bot.get_me()
        mode = "webhook" if settings.webhook_url else "polling"
        log.info(
            "@%s started (%s, database %s, staff chat %s)",
            me.username,
            mode,
            app.database.engine.url.render_as_string(hide_password=True),
            settings.staff_chat_id or "not set",
        )
        if on_started is not None:
            await on_started(app)
        if settings.webhook_url:
            await _run_webhook(app, settings)
        else:
            # SIGINT / SIGTERM stop polling; updates already taken are then finished before
            # the bot session closes, so none is lost half-way.
            await app.dispatcher.start_polling(
                app.bot,
                allowed_updates=app.dispatcher.resolve_used_update_types(),
                close_bot_session=False,
            )
            if not await app.in_flight.drain(SHUTDOWN_GRACE_SECONDS):
                log.warning("%d update(s) still running at shutdown", app.in_flight.count)
    finally:
        await sweeps.stop()
        await app.close()
        log.info("stopped")


async def _run_webhook(app: App, settings: Settings) -> None:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    await app.bot.set_webhook(
        str(settings.webhook_url),
        secret_token=secret,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )
    web_app = web.Application()
    SimpleRequestHandler(dispatcher=app.dispatcher, bot=app.bot, secret_token=secret).register(
        web_app, path="/webhook"
    )
    setup_application(web_app, app.dispatcher, bot=app.bot)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    log.info("webhook listening on %s:%s/webhook", settings.webhook_host, settings.webhook_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await app.in_flight.drain(SHUTDOWN_GRACE_SECONDS)
