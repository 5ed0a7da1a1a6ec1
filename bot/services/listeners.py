"""Other parts of the desk (the staff group, statistics) hear about ticket activity here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from storage.models import Attachment, Ticket, TicketMessage
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class TicketListener(Protocol):
    async def ticket_opened(self, ticket_id: int) -> None: ...

    async def customer_message(self, ticket_id: int, message_id: int) -> None: ...


class StoredMessageListener(Protocol):
    """Works inside the unit of work that stores a customer's message (one transaction for
    storing and relaying it). An error here rolls the storing back too, and the update's
    error path keeps the message, so such a listener must only do what has to be atomic."""

    async def customer_message_stored(
        self,
        uow: UnitOfWork,
        *,
        ticket: Ticket,
        message: TicketMessage,
        files: Sequence[Attachment],
        reply_to: int | None,
        starts_burst: bool,
    ) -> None:
        """`reply_to`: the message of the customer's chat this one replies to;
        `starts_burst`: the first of the customer's messages in a row (`TicketService.burst`)."""
        ...


class RegistrationListener(Protocol):
    """Works inside the unit of work that registers a ticket: what it writes (routing, the
    request to open the staff topic) is committed with the ticket or not at all."""

    async def ticket_registered(self, uow: UnitOfWork, *, ticket: Ticket) -> None: ...


class TicketListeners:
    """Fans events out to every listener; one listener failing never breaks the customer's flow."""

    def __init__(self) -> None:
        self._listeners: list[TicketListener] = []
        self._in_transaction: list[StoredMessageListener] = []
        self._on_registration: list[RegistrationListener] = []

    def add(self, listener: TicketListener) -> None:
        self._listeners.append(listener)

    def add_in_transaction(self, listener: StoredMessageListener) -> None:
        self._in_transaction.append(listener)

    def add_on_registration(self, listener: RegistrationListener) -> None:
        self._on_registration.append(listener)

    async def ticket_registered(self, uow: UnitOfWork, *, ticket: Ticket) -> None:
        for listener in self._on_registration:
            await listener.ticket_registered(uow, ticket=ticket)

    async def customer_message_stored(
        self,
        uow: UnitOfWork,
        *,
        ticket: Ticket,
        message: TicketMessage,
        files: Sequence[Attachment],
        reply_to: int | None,
        starts_burst: bool,
    ) -> None:
        for listener in self._in_transaction:
            await listener.customer_message_stored(
                uow,
                ticket=ticket,
                message=message,
                files=files,
                reply_to=reply_to,
                starts_burst=starts_burst,
            )

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
