"""The staff desk hears about tickets: route and open a topic, relay what the customer says."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.desk import DeskService
from bot.services.outbox import Notify
from bot.telegram.staff.threads import StaffThreads
from storage.models import Attachment, Ticket, TicketMessage
from storage.unit_of_work import UnitOfWork


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

    async def customer_message_stored(
        self,
        uow: UnitOfWork,
        *,
        ticket: Ticket,
        message: TicketMessage,
        files: Sequence[Attachment],
    ) -> None:
        """In the storing transaction: the relay and the status change (its card refresh
        included) are written with the message."""
        await self._desk.relay_customer_message(uow, ticket=ticket, message=message, files=files)

    async def customer_message(self, ticket_id: int, message_id: int) -> None:
        try:
            await self._threads.ensure(ticket_id)
        finally:
            self._notify()
