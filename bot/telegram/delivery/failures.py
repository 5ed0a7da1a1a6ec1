"""What happens when a message could not be sent: a retry later (with backoff, or after
Telegram's `retry_after`), or a refusal for good, and who is told about it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.locales.catalog import Catalogs
from bot.ops.metrics import record_delivery
from bot.services.outbox import enqueue_card_refresh, enqueue_notice
from storage.outbox_models import OutboxMessage
from storage.unit_of_work import Database

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
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


def _reason(description: str) -> str:
    lowered = description.lower()
    for words, reason in _REASONS:
        if words in lowered:
            return reason
    return "other"


class Failures:
    def __init__(
        self,
        database: Database,
        catalogs: Catalogs,
        *,
        staff_chat_id: int | None,
        staff_locale: str,
        give_up_after: timedelta,
        delay_notice: timedelta,
        notify: Callable[[], None],
    ) -> None:
        self._database = database
        self._catalogs = catalogs
        self._staff_chat_id = staff_chat_id
        self._staff_locale = staff_locale
        self._give_up_after = give_up_after
        self._delay_notice = delay_notice
        self._notify = notify

    def _staff_text(self, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, self._staff_locale, **params)

    def _agent_message(self, row: OutboxMessage) -> int | None:
        """The agent's message in the topic this row carries to the customer, if any."""
        link = row.payload.get("link")
        if link and link.get("source_chat_id") == self._staff_chat_id:
            return int(link["source_message_id"])
        return None

    async def backoff(self, row: OutboxMessage, now: datetime, error: str) -> None:
        """A transient failure: try again later, for as long as `give_up_after`."""
        if now - row.created_at >= self._give_up_after:
            hours = int(self._give_up_after.total_seconds() // 3600)
            await self.refused(row, now, error, reason="gave_up", hours=hours)
            return
        record_delivery("retried")
        delay = min(timedelta(seconds=2 ** min(row.attempts + 1, 20)), MAX_BACKOFF)
        await self.retry(row, now, now + delay, error)

    async def retry(self, row: OutboxMessage, now: datetime, at: datetime, error: str) -> None:
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
        self._notify()

    async def refused(
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
        self._notify()

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
