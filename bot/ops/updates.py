"""Per-update metrics and the one log line per handled update (id, kind, ticket, time)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject, Update

from bot.ops import context
from bot.ops.metrics import HANDLER_ERRORS, UPDATE_SECONDS, UPDATES

log = logging.getLogger("bot.ops.updates")


class UpdateMetrics(BaseMiddleware):
    """Counts updates by kind, times them, counts handler errors and logs one line each."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        kind = event.event_type
        update_token = context.update_id.set(event.update_id)
        ticket_token = context.ticket_number.set(None)
        started = time.perf_counter()
        outcome = "handled"
        try:
            return await handler(event, data)
        except Exception:
            outcome = "failed"
            HANDLER_ERRORS.labels(kind).inc()
            raise
        finally:
            elapsed = time.perf_counter() - started
            UPDATES.labels(kind).inc()
            UPDATE_SECONDS.labels(kind).observe(elapsed)
            log.info("update %s (%s) %s in %.0f ms", event.update_id, kind, outcome, elapsed * 1000)
            context.ticket_number.reset(ticket_token)
            context.update_id.reset(update_token)


def install_update_metrics(dispatcher: Dispatcher) -> None:
    dispatcher.update.outer_middleware(UpdateMetrics())
