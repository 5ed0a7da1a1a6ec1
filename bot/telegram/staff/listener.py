"""The staff desk hears about tickets: route and open a topic, relay what the customer says."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.desk.assignment import RouteTicket
from bot.services.desk.customer_relay import RelayCustomerMessage
from bot.services.desk.topics import enqueue_open_topic
from bot.services.outbox import Notify
from storage.models import Attachment, Ticket, TicketMessage
from storage.unit_of_work import UnitOfWork


class DeskListener:
    def __init__(self, route: RouteTicket, relay: RelayCustomerMessage, notify: Notify) -> None:
        self._route = route
        self._relay = relay
        self._notify = notify

    async def ticket_registered(self, uow: UnitOfWork, *, ticket: Ticket) -> None:
        """In the registering transaction: route the ticket and ask the delivery worker for
        its topic and card (made there, retried on failure, never in the customer's path)."""
        assert ticket.id is not None
        customer = await uow.customers.get(customer_id=ticket.customer_id)
        assert customer is not None
        await self._route(uow, ticket, customer)
        await enqueue_open_topic(uow, ticket_id=ticket.id, now=ticket.created_at)

    async def ticket_opened(self, ticket_id: int) -> None:
        self._notify()

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
        """In the storing transaction: the relay and the status change (its card refresh
        included) are written with the message."""
        await self._relay(
            uow,
            ticket=ticket,
            message=message,
            files=files,
            reply_to=reply_to,
            starts_burst=starts_burst,
        )

    async def customer_message(self, ticket_id: int, message_id: int) -> None:
        """The relay is in the outbox; the worker sends it into the topic (making it if
        needed)."""
        self._notify()
