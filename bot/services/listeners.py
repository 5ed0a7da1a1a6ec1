"""Other parts of the desk (the staff group, statistics) hear about ticket activity here."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class TicketListener(Protocol):
    async def ticket_opened(self, ticket_id: int) -> None: ...

    async def customer_message(self, ticket_id: int, message_id: int) -> None: ...


class TicketListeners:
    """Fans events out to every listener; one listener failing never breaks the customer's flow."""

    def __init__(self) -> None:
        self._listeners: list[TicketListener] = []

    def add(self, listener: TicketListener) -> None:
        self._listeners.append(listener)

    async def ticket_opened(self, ticket_id: int) -> None:
        for listener in self._listeners:
            try:
                await listener.ticket_opened(ticket_id)
            except Exception:
                log.exception("listener %r failed on ticket_opened(%s)", listener, ticket_id)

    async def customer_message(self, ticket_id: int, message_id: int) -> None:
        for listener in self._listeners:
            try:
                await listener.customer_message(ticket_id, message_id)
            except Exception:
                log.exception("listener %r failed on customer_message(%s)", listener, ticket_id)
