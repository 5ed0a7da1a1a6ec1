"""The staff desk hears about tickets: route and open a topic, relay what the customer says."""

from __future__ import annotations

from bot.services.desk import DeskService
from bot.services.outbox import Notify
from bot.telegram.staff.threads import StaffThreads


class DeskListener:
    def __init__(self, desk: DeskService, threads: StaffThreads, notify: Notify) -> None:
        self._desk = desk
        self._threads = threads
        self._notify = notify

    async def ticket_opened(self, ticket_id: int) -> None:
        await self._desk.route(ticket_id)
        try:
            await self._threads.ensure(ticket_id)
        finally:
            self._notify()

    async def customer_message(self, ticket_id: int, message_id: int) -> None:
        # A status change it causes refreshes the card through the outbox.
        await self._desk.customer_wrote(ticket_id, message_id)
        await self._threads.ensure(ticket_id)
