"""Customer-side ticket use cases: register a complaint, list tickets, add to a ticket."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy, compute_due
from bot.domain.tickets import (
    OPEN_STATUSES,
    Actor,
    TicketKind,
    format_ticket_number,
    registration,
)
from bot.ops.context import bind_ticket
from bot.services.intake import ComplaintForm, FileRef, IncomingMessage
from bot.services.listeners import TicketListeners
from bot.services.outbox import enqueue_text
from storage.models import Attachment, Customer, Ticket, TicketEvent, TicketMessage
from storage.unit_of_work import Database, UnitOfWork

OPEN_STATUS_VALUES: tuple[str, ...] = tuple(sorted(s.value for s in OPEN_STATUSES))


@dataclass(frozen=True, slots=True)
class TicketPage:
    items: Sequence[Ticket]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class TicketHistory:
    ticket: Ticket
    messages: Sequence[TicketMessage]
    events: Sequence[TicketEvent]
    attachment_count: int


class TicketNotFound(LookupError):
    pass


def _incoming_row(
    message: IncomingMessage, *, customer_id: int, ticket_id: int | None, now: datetime
) -> TicketMessage:
    return TicketMessage(
        ticket_id=ticket_id,
        customer_id=customer_id,
        direction="in",
        author_id=message.chat_id,
        content_type=message.content_type,
        text=message.text,
        chat_id=message.chat_id,
        telegram_message_id=message.message_id,
        media_group_id=message.media_group_id,
        update_id=message.update_id,
        created_at=now,
    )


def _attachments(
    files: Sequence[FileRef], *, ticket_id: int | None, message_id: int | None, now: datetime
) -> list[Attachment]:
    return [
        Attachment(
            ticket_id=ticket_id,
            message_id=message_id,
            kind=f.kind,
            file_id=f.file_id,
            file_unique_id=f.file_unique_id,
            file_name=f.file_name,
            mime_type=f.mime_type,
            file_size=f.file_size,
            media_group_id=f.media_group_id,
            created_at=now,
        )
        for f in files
    ]


class TicketService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        sla: SlaPolicy,
        listeners: TicketListeners | None = None,
        *,
        reopen_window: timedelta = timedelta(days=30),
        burst: timedelta = timedelta(minutes=10),
    ) -> None:
        self._database = database
        self._clock = clock
        self._sla = sla
        self.listeners = listeners or TicketListeners()
        self.reopen_window = reopen_window
        # A customer's messages to a ticket with less than this between them, and no answer
        # between, are one burst: acknowledged once, under one header in the topic.
        self.burst = burst

    @property
    def sla(self) -> SlaPolicy:
        return self._sla

    async def open_complaint(
        self,
        *,
        customer_id: int,
        form: ComplaintForm,
        kind: TicketKind = TicketKind.COMPLAINT,
        form_id: str | None = None,
    ) -> Ticket:
        """Register a ticket (routed, its staff topic requested, all in one transaction).

        `form_id` identifies the filled-in form: a form submitted again (a double press, or a
        crash after the ticket was stored but before the form was cleared) returns the
        ticket it already made instead of filing the complaint twice.
        """
        now = self._clock.now()
        due = compute_due(self._sla, priority=form.priority, opened_at=now, now=now)
        async with self._database.unit_of_work() as uow:
            # The counter's row lock makes concurrent registrations take turns, so a second
            # submission of one form sees the first one's record here once it is committed.
            number = format_ticket_number(await uow.tickets.next_sequence())
            submissions = uow.form_submissions
            if form_id is not None:
                earlier = await submissions.ticket_for(form_id=form_id)
                if earlier is not None:
                    await uow.rollback()  # the number is not used
                    found = await uow.tickets.get(ticket_id=earlier)
                    assert found is not None
                    return found
            bind_ticket(number)
            ticket = await uow.tickets.add(
                ticket=Ticket(
                    number=number,
                    customer_id=customer_id,
                    kind=kind,
                    category=form.category,
                    description=form.description,
                    incident_date=form.incident_date,
                    fields=dict(form.fields),
                    contact_phone=form.contact_phone,
                    priority=form.priority,
                    created_at=now,
                    updated_at=now,
                    first_response_due=due.first_response_due,
                    resolution_due=due.resolution_due,
                )
            )
            assert ticket.id is not None
            change = registration(actor=Actor.customer(customer_id), at=now)
            await uow.events.add(
                ticket_id=ticket.id,
                at=change.at,
                actor_kind=change.actor.kind,
                actor_id=customer_id,
                to_status=change.to_status,
                data={"channel": "telegram", "category": form.category},
            )
            if form.files:
                await uow.attachments.add_many(
                    attachments=_attachments(
                        form.files, ticket_id=ticket.id, message_id=None, now=now
                    )
                )
            customer = await uow.customers.get(customer_id=customer_id)
            if customer is not None:
                customer.current_ticket_id = ticket.id
                if form.contact_phone:
                    customer.phone = form.contact_phone
                await uow.customers.save(customer=customer)
            if form_id is not None:
                await submissions.add(form_id=form_id, ticket_id=ticket.id, now=now)
            await self.listeners.ticket_registered(uow, ticket=ticket)
        await self.listeners.ticket_opened(ticket.id)
        return ticket

    async def page_for_customer(
        self, *, customer_id: int, page: int, page_size: int = 5
    ) -> TicketPage:
        async with self._database.unit_of_work() as uow:
            total = await uow.tickets.count_for_customer(customer_id=customer_id)
            pages = max(1, -(-total // page_size))
            page = min(max(page, 0), pages - 1)
            items = await uow.tickets.for_customer(
                customer_id=customer_id, offset=page * page_size, limit=page_size
            )
        return TicketPage(items=items, page=page, pages=pages, total=total)

    async def history_for_customer(self, *, customer_id: int, ticket_id: int) -> TicketHistory:
        async with self._database.unit_of_work() as uow:
            ticket = await self._owned(uow, customer_id=customer_id, ticket_id=ticket_id)
            messages = await uow.messages.for_ticket(
                ticket_id=ticket_id, customer_visible_only=True
            )
            events = await uow.events.for_ticket(ticket_id=ticket_id)
            attachments = await uow.attachments.for_ticket(ticket_id=ticket_id)
        return TicketHistory(ticket, messages, events, len(attachments))

    async def open_tickets(self, *, customer_id: int) -> Sequence[Ticket]:
        async with self._database.unit_of_work() as uow:
            return await uow.tickets.open_for_customer(
                customer_id=customer_id, statuses=OPEN_STATUS_VALUES
            )

    async def choose_ticket(self, *, customer_id: int, ticket_id: int) -> Ticket:
        """Remember which ticket the customer is writing about now."""
        async with self._database.unit_of_work() as uow:
            ticket = await self._owned(uow, customer_id=customer_id, ticket_id=ticket_id)
            customer = await uow.customers.get(customer_id=customer_id)
            if customer is not None:
                customer.current_ticket_id = ticket_id
                await uow.customers.save(customer=customer)
            return ticket

    async def add_customer_message(
        self, *, customer_id: int, ticket_id: int | None, message: IncomingMessage
    ) -> TicketMessage:
        """Store a customer's message (and its files), attached to a ticket when given one;
        a reply to a message of another of the customer's tickets goes to that ticket."""
        async with self._database.unit_of_work() as uow:
            ticket = await self._replied_ticket(uow, customer_id=customer_id, message=message)
            if ticket is None and ticket_id is not None:
                ticket = await self._owned(
                    uow, customer_id=customer_id, ticket_id=ticket_id, lock=True
                )
            stored, _ = await self._store(
                uow, customer_id=customer_id, ticket=ticket, message=message
            )
        await self._announce(ticket, stored)
        return stored

    async def place_customer_message(
        self,
        *,
        customer_id: int,
        message: IncomingMessage,
        acknowledgement: Callable[[Ticket], str | None] | None = None,
    ) -> tuple[Ticket | None, TicketMessage]:
        """Store a free message with the ticket it belongs to (the ticket of the message it
        replies to, else see `ticket_for_message`), choosing and storing in one transaction.
        `acknowledgement` gives what to answer the customer about the ticket the message went
        to (None: nothing); the answer is queued in the same transaction, for the first
        message of a burst only (see `burst`): one answer, however many messages follow it."""
        async with self._database.unit_of_work() as uow:
            ticket = await self._replied_ticket(uow, customer_id=customer_id, message=message)
            if ticket is None:
                # The customer is held for the whole unit of work: the session's identity map
                # keeps only what is referenced, and the relay inside `_store` reads it again.
                _held_customer, ticket = await self._ticket_for_message(
                    uow, customer_id=customer_id, lock=True
                )
            stored, starts_burst = await self._store(
                uow, customer_id=customer_id, ticket=ticket, message=message
            )
            answer = (
                acknowledgement(ticket) if acknowledgement and ticket and starts_burst else None
            )
            if answer is not None:
                await enqueue_text(
                    uow,
                    key=f"ack:{message.chat_id}:{message.message_id}",
                    chat_id=message.chat_id,
                    html=answer,
                    now=self._clock.now(),
                )
        await self._announce(ticket, stored)
        return ticket, stored

    async def store_unplaced(self, *, customer_id: int, message: IncomingMessage) -> TicketMessage:
        """Store a message that belongs to no ticket (a question the knowledge base answered)."""
        async with self._database.unit_of_work() as uow:
            stored, _ = await self._store(
                uow, customer_id=customer_id, ticket=None, message=message
            )
            return stored

    async def _store(
        self,
        uow: UnitOfWork,
        *,
        customer_id: int,
        ticket: Ticket | None,
        message: IncomingMessage,
    ) -> tuple[TicketMessage, bool]:
        """The stored message, and whether it starts a burst (see `burst`; False for a
        message stored before or one on no ticket)."""
        now = self._clock.now()
        ticket_id = ticket.id if ticket is not None else None
        row = _incoming_row(message, customer_id=customer_id, ticket_id=ticket_id, now=now)
        previous = None
        if ticket is not None:
            stored, previous = await uow.messages.add_to_ticket(message=row, ticket=ticket)
        else:
            stored = await uow.messages.add_unless_stored(message=row)
        if stored is None:  # the update came again: stored and relayed the first time
            already = await uow.staff_tickets.message_by_telegram_id(
                chat_id=message.chat_id, telegram_message_id=message.message_id
            )
            assert already is not None
            return already, False
        starts_burst = ticket is not None and (
            previous is None or previous.direction != "in" or now - previous.created_at > self.burst
        )
        files: list[Attachment] = []
        if message.files:
            files = _attachments(message.files, ticket_id=ticket_id, message_id=stored.id, now=now)
            await uow.attachments.add_many(attachments=files)
        if ticket is not None:
            await self.listeners.customer_message_stored(
                uow,
                ticket=ticket,
                message=stored,
                files=files,
                reply_to=message.reply_to,
                starts_burst=starts_burst,
            )
        return stored, starts_burst

    async def _announce(self, ticket: Ticket | None, stored: TicketMessage) -> None:
        if ticket is not None and ticket.id is not None and stored.id is not None:
            await self.listeners.customer_message(ticket.id, stored.id)

    async def store_after_failure(
        self, *, customer_id: int, message: IncomingMessage
    ) -> TicketMessage:
        """Keep a message whose handling failed: with the customer's current open ticket if
        there is one, else on its own. Deliberately simple, so it works when much else fails."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            already = await uow.staff_tickets.message_by_telegram_id(
                chat_id=message.chat_id, telegram_message_id=message.message_id
            )
            if already is not None:
                return already  # stored before the handling failed
            customer = await uow.customers.get(customer_id=customer_id)
            ticket_id = customer.current_ticket_id if customer else None
            if ticket_id is not None:
                ticket = await uow.tickets.get(ticket_id=ticket_id)
                if ticket is None or ticket.status not in OPEN_STATUS_VALUES:
                    ticket_id = None
            return await uow.messages.add(
                message=_incoming_row(
                    message, customer_id=customer_id, ticket_id=ticket_id, now=now
                )
            )

    async def ticket_for_message(self, *, customer_id: int) -> Ticket | None:
        """Which ticket a free message of the customer belongs to.

        The current (last written about or chosen) open ticket, else the most recently updated
        open one; with none open, the current ticket if it was resolved or closed within the
        reopen window (writing to it reopens it); otherwise None.
        """
        async with self._database.unit_of_work() as uow:
            _, ticket = await self._ticket_for_message(uow, customer_id=customer_id)
            return ticket

    async def _ticket_for_message(
        self, uow: UnitOfWork, *, customer_id: int, lock: bool = False
    ) -> tuple[Customer | None, Ticket | None]:
        """The customer and the ticket their free message belongs to (see
        `ticket_for_message`). `lock`: the ticket returned is locked for the rest of the unit
        of work (the customer's open tickets are locked as they are read)."""
        customer, open_tickets = await uow.tickets.open_with_customer(
            customer_id=customer_id, statuses=OPEN_STATUS_VALUES, lock=lock
        )
        current_id = customer.current_ticket_id if customer else None
        chosen = next((tk for tk in open_tickets if tk.id == current_id), None)
        if chosen is not None or open_tickets:
            return customer, chosen or open_tickets[0]
        if current_id is None:
            return customer, None
        recent = await uow.tickets.get(ticket_id=current_id, for_update=lock)
        if recent is None or recent.customer_id != customer_id:
            return customer, None
        finished = recent.closed_at or recent.resolved_at
        if finished is not None and self._clock.now() - finished <= self.reopen_window:
            return customer, recent
        return customer, None

    async def unplaced_text(self, *, customer_id: int) -> str:
        """What the customer wrote outside any ticket most recently (for a new question)."""
        async with self._database.unit_of_work() as uow:
            messages = await uow.messages.for_customer_without_ticket(customer_id=customer_id)
        texts = [m.text for m in messages if m.text]
        return texts[-1] if texts else ""

    async def _replied_ticket(
        self, uow: UnitOfWork, *, customer_id: int, message: IncomingMessage
    ) -> Ticket | None:
        """The customer's ticket the replied-to message belongs to (an agent's message from
        that ticket's topic, or the bot's message about it), locked, when writing to it is
        still possible (open, or closed within the reopen window); None otherwise."""
        if message.reply_to is None:
            return None
        ticket_id = await uow.links.ticket_for(chat_id=message.chat_id, message_id=message.reply_to)
        if ticket_id is None:
            ticket_id = await uow.replied_messages.ticket_of_sent(
                chat_id=message.chat_id, message_id=message.reply_to
            )
        if ticket_id is None:
            return None
        ticket = await uow.tickets.get(ticket_id=ticket_id, for_update=True)
        if ticket is None or ticket.customer_id != customer_id:
            return None
        if ticket.status in OPEN_STATUS_VALUES:
            return ticket
        finished = ticket.closed_at or ticket.resolved_at
        if finished is not None and self._clock.now() - finished <= self.reopen_window:
            return ticket
        return None

    @staticmethod
    async def _owned(
        uow: UnitOfWork, *, customer_id: int, ticket_id: int, lock: bool = False
    ) -> Ticket:
        """The customer's ticket; `lock` holds its row for a change about to be made."""
        ticket = await uow.tickets.get(ticket_id=ticket_id, for_update=lock)
        if ticket is None or ticket.customer_id != customer_id:
            raise TicketNotFound(ticket_id)
        return ticket
