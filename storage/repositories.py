"""Repositories: the only code that writes SQL. Methods take keyword-only arguments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    true,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.tickets import ActorKind, EventKind, TicketStatus
from storage.dialects import INSERTS, one_of, per_dialect
from storage.models import (
    Attachment,
    Counter,
    Customer,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from storage.outbox_models import OUTBOX
from storage.staff_models import Agent


def dialect_of(session: AsyncSession) -> str:
    """The database behind a session: "sqlite" or "postgresql"."""
    return session.get_bind().dialect.name


class _Keep:
    """Marker: leave this part of a record as it is."""


KEEP = _Keep()


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


class CustomerRepository(_Repository):
    async def get(self, *, customer_id: int) -> Customer | None:
        return await self.session.get(Customer, customer_id)

    async def by_telegram_id(self, *, telegram_id: int) -> Customer | None:
        result = await self.session.exec(
            select(Customer).where(Customer.telegram_id == telegram_id)
        )
        return result.first()

    async def register(
        self,
        *,
        telegram_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        locale: str,
        now: datetime,
    ) -> Customer:
        """Return the customer for this Telegram user, creating or refreshing the profile."""
        customer = await self.by_telegram_id(telegram_id=telegram_id)
        if customer is None:
            customer = Customer(
                telegram_id=telegram_id,
                first_name=first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
                locale=locale,
                created_at=now,
                updated_at=now,
            )
            self.session.add(customer)
            await self.session.flush()
            return customer
        profile = (first_name, last_name, username, language_code)
        if profile != (
            customer.first_name,
            customer.last_name,
            customer.username,
            customer.language_code,
        ):
            customer.first_name = first_name
            customer.last_name = last_name
            customer.username = username
            customer.language_code = language_code
            customer.updated_at = now
            self.session.add(customer)
        return customer

    async def save(self, *, customer: Customer) -> None:
        self.session.add(customer)
        await self.session.flush()


_TICKETS: Table = Ticket.__table__  # type: ignore[attr-defined]
# A customer's tickets in some statuses, most recently updated first, built once for each
# database (the statuses as one array parameter on PostgreSQL: `storage/dialects.py` `one_of`).
_MOST_RECENTLY_UPDATED = (col(Ticket.updated_at).desc(), col(Ticket.id).desc())


@dataclass(frozen=True, slots=True)
class _CustomersTickets:
    open_for_customer: Any
    # The same with the customer, in one statement: a customer's every free message needs
    # both. Only the tickets are locked.
    open_with_customer: Any
    open_with_customer_locked: Any


def _customers_tickets(dialect: str) -> _CustomersTickets:
    where = (
        Ticket.customer_id == bindparam("customer_id"),
        one_of(dialect, _TICKETS.c.status, "statuses", item=String),
    )
    with_customer = (
        select(Ticket, Customer)
        .join(Customer, col(Customer.id) == Ticket.customer_id)
        .where(*where)
        .order_by(*_MOST_RECENTLY_UPDATED)
    )
    return _CustomersTickets(
        open_for_customer=select(Ticket).where(*where).order_by(*_MOST_RECENTLY_UPDATED),
        open_with_customer=with_customer,
        open_with_customer_locked=with_customer.with_for_update(of=Ticket).execution_options(
            populate_existing=True
        ),
    )


_CUSTOMERS_TICKETS = {dialect: _customers_tickets(dialect) for dialect in INSERTS}

# A ticket's `updated_at` set (`TicketRepository.touch`).
_TOUCH = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("ticket_id"))
    .values(updated_at=bindparam("now", type_=_TICKETS.c.updated_at.type))
)

# A ticket locked and read afresh (`TicketRepository.get(for_update=True)` on PostgreSQL).
_TICKET_LOCKED = (
    select(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def _with_customer_and_agent(key: ColumnElement[bool]) -> tuple[Any, Any]:
    """A ticket with its customer and one agent (none: `agent_id` NULL), in one statement: a
    staff action needs the ticket, its customer and the acting agent's record. Plain and
    locked (the ticket's row only)."""
    plain = (
        select(Ticket, Customer, Agent)
        .join(Customer, col(Customer.id) == Ticket.customer_id)
        .outerjoin(Agent, col(Agent.telegram_id) == bindparam("agent_id", type_=BigInteger))
        .where(key)
    )
    locked = plain.with_for_update(of=Ticket).execution_options(populate_existing=True)
    return plain, locked


# By the ticket's id, and by its topic in the staff group (an agent's reply in the topic).
_WITH_CUSTOMER_AND_AGENT = _with_customer_and_agent(col(Ticket.id) == bindparam("key"))
_IN_TOPIC_WITH_CUSTOMER_AND_AGENT = _with_customer_and_agent(
    col(Ticket.topic_id) == bindparam("key", type_=BigInteger)
)


class TicketRepository(_Repository):
    async def set_root_cause(
        self, *, ticket_id: int, cause: str, now: datetime, statuses: Sequence[str]
    ) -> bool:
        """Record the ticket's root cause if it is still in one of `statuses`; one conditional
        UPDATE, so a concurrent status change is never overwritten. False when it was not."""
        table = Ticket.__table__  # type: ignore[attr-defined]
        changed = await self.session.exec(
            update(table)
            .where(table.c.id == ticket_id, table.c.status.in_(list(statuses)))
            .values(root_cause=cause, updated_at=now)
        )
        return bool(changed.rowcount == 1)

    async def next_sequence(self, *, name: str = "ticket") -> int:
        """Increment a named counter atomically and return the new value.

        On PostgreSQL the upsert takes a row lock held until commit, so concurrent
        registrations queue on it and never share a number.
        """
        insert = INSERTS[dialect_of(self.session)]
        statement = (
            insert(Counter)
            .values(name=name, value=1)
            .on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + 1})
            .returning(col(Counter.value))
        )
        result = await self.session.exec(statement)
        return int(result.scalar_one())

    async def add(self, *, ticket: Ticket) -> Ticket:
        self.session.add(ticket)
        await self.session.flush()
        return ticket

    async def get(self, *, ticket_id: int, for_update: bool = False) -> Ticket | None:
        """The ticket; `for_update` locks its row until the unit of work ends (read-modify-
        write: PostgreSQL runs updates concurrently) and reads it afresh, so a change is
        always made to the latest committed state. On SQLite a unit of work holds the
        process's write lock from its start, so what it read is current already."""
        if not for_update or dialect_of(self.session) == "sqlite":
            return await self.session.get(Ticket, ticket_id)
        result = await self.session.exec(_TICKET_LOCKED, params={"ticket_id": ticket_id})
        return result.first()

    async def with_customer_and_agent(
        self,
        *,
        ticket_id: int | None = None,
        topic_id: int | None = None,
        agent_id: int | None = None,
        for_update: bool = False,
    ) -> tuple[Ticket, Customer, Agent | None] | None:
        """The ticket (by its id, or by its topic in the staff group), its customer and the
        record of agent `agent_id` (None when there is none), in one statement; `for_update`
        as in `get`."""
        plain, locked = _WITH_CUSTOMER_AND_AGENT
        key = ticket_id
        if topic_id is not None:
            plain, locked, key = (*_IN_TOPIC_WITH_CUSTOMER_AND_AGENT, topic_id)
        statement = locked if for_update and dialect_of(self.session) != "sqlite" else plain
        result = await self.session.exec(statement, params={"key": key, "agent_id": agent_id})
        row = result.first()
        return None if row is None else (row[0], row[1], row[2])

    async def by_number(self, *, number: str) -> Ticket | None:
        result = await self.session.exec(select(Ticket).where(Ticket.number == number))
        return result.first()

    async def for_customer(
        self, *, customer_id: int, offset: int = 0, limit: int = 5
    ) -> Sequence[Ticket]:
        result = await self.session.exec(
            select(Ticket)
            .where(Ticket.customer_id == customer_id)
            .order_by(col(Ticket.updated_at).desc(), col(Ticket.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return result.all()

    async def count_for_customer(self, *, customer_id: int) -> int:
        result = await self.session.exec(
            select(func.count()).select_from(Ticket).where(Ticket.customer_id == customer_id)
        )
        return int(result.one())

    async def open_for_customer(
        self, *, customer_id: int, statuses: Sequence[str]
    ) -> Sequence[Ticket]:
        """The customer's tickets in `statuses`, most recently updated first."""
        result = await self.session.exec(
            _CUSTOMERS_TICKETS[dialect_of(self.session)].open_for_customer,
            params={"customer_id": customer_id, "statuses": list(statuses)},
        )
        return result.all()

    async def open_with_customer(
        self, *, customer_id: int, statuses: Sequence[str], lock: bool = False
    ) -> tuple[Customer | None, Sequence[Ticket]]:
        """`open_for_customer` and the customer read together: one statement when the
        customer has tickets in `statuses`, else the customer alone. `lock` locks the
        tickets' rows and reads them afresh, as `get(for_update=True)` does for one."""
        dialect = dialect_of(self.session)
        statements = _CUSTOMERS_TICKETS[dialect]
        statement = statements.open_with_customer
        if lock and dialect != "sqlite":
            statement = statements.open_with_customer_locked
        result = await self.session.exec(
            statement, params={"customer_id": customer_id, "statuses": list(statuses)}
        )
        rows = result.all()
        if not rows:
            return await self.session.get(Customer, customer_id), []
        return rows[0][1], [ticket for ticket, _ in rows]

    async def save(self, *, ticket: Ticket) -> None:
        self.session.add(ticket)
        await self.session.flush()

    async def touch(self, *, ticket: Ticket, now: datetime) -> None:
        """Set the ticket's `updated_at` to `now` (a message came or went): one prebuilt
        UPDATE, not the session's flush of the object (twice the CPU), and the object is
        given the stored value. The ticket's other changes, if any, are flushed first."""
        assert ticket.id is not None
        if ticket.updated_at == now:
            return
        await self.session.exec(_TOUCH, params={"ticket_id": ticket.id, "now": now})
        set_committed_value(ticket, "updated_at", now)

    async def set_related_articles(self, *, ticket_id: int, entry_ids: list[str]) -> None:
        """Store the knowledge-base articles related to the ticket, unless already stored."""
        await self.session.exec(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id, col(Ticket.kb_articles).is_(None))
            .values(kb_articles=entry_ids)
        )


_MESSAGES: Table = TicketMessage.__table__  # type: ignore[attr-defined]
_MESSAGE_COLUMNS = tuple(column.name for column in _MESSAGES.columns if column.name != "id")
# Every customer message and every reply adds a row: one statement built once, not the
# session's flush (half the CPU of `session.add` and `flush` for a new row).
_ADD_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
# The same, unless a message with its chat and Telegram id is stored (an update that came
# again): the unique index answers, instead of a look-up before every insert.
_ADD_MESSAGE_UNLESS_STORED = per_dialect(
    lambda insert: (
        insert(_MESSAGES)
        .on_conflict_do_nothing(index_elements=["chat_id", "telegram_message_id"])
        .returning(_MESSAGES.c.id)
    )
)


@dataclass(frozen=True, slots=True)
class PreviousMessage:
    """What a ticket's message before a new one was: who wrote it ("in": the customer) and
    when."""

    direction: str
    created_at: datetime


# Named apart from every column: an INSERT or UPDATE takes a parameter named after one of its
# table's columns as a value to set, and `tickets` shares some names with `ticket_messages`.
_MESSAGE_VALUES = {
    name: bindparam(f"message_{name}", type_=_MESSAGES.c[name].type) for name in _MESSAGE_COLUMNS
}


def _message_before(new_id: ColumnElement[Any]) -> Any:
    """Who wrote the ticket's message before the one with `new_id`, and when."""
    return (
        core_select(_MESSAGES.c.direction, _MESSAGES.c.created_at)
        .where(_MESSAGES.c.ticket_id == _MESSAGE_VALUES["ticket_id"], _MESSAGES.c.id < new_id)
        .order_by(_MESSAGES.c.id.desc())
        .limit(literal_column("1"))
    )


_PREVIOUS_IN_TICKET = _message_before(bindparam("new_id"))


def _added_to_ticket_postgresql() -> Any:
    """PostgreSQL: `add_unless_stored`, `TicketRepository.touch` and the read of the message
    before the new one in a single statement (every customer's message runs it). The insert
    and the update are data-modifying CTEs; the rest of the statement sees the table as it was
    before the insert, so the message found is the one before the new one. A message stored
    before (an update that came again) returns no row and leaves the ticket as it is."""
    stored = (
        pg_insert(_MESSAGES)
        .values(_MESSAGE_VALUES)
        .on_conflict_do_nothing(index_elements=["chat_id", "telegram_message_id"])
        .returning(_MESSAGES.c.id)
        .cte("stored")
    )
    touched = (
        update(_TICKETS)
        .where(_TICKETS.c.id == _MESSAGE_VALUES["ticket_id"], exists(core_select(stored.c.id)))
        .values(updated_at=_MESSAGE_VALUES["created_at"])
        .cte("touched")
    )
    previous = _message_before(stored.c.id).lateral("previous")
    return (
        core_select(stored.c.id, previous.c.direction, previous.c.created_at)
        .select_from(stored.outerjoin(previous, true()))
        .add_cte(touched)
    )


_ADD_TO_TICKET_POSTGRESQL = _added_to_ticket_postgresql()


class MessageRepository(_Repository):
    async def add(self, *, message: TicketMessage) -> TicketMessage:
        """Store a new message (its id is set) or the changes to a stored one. A new one
        comes back detached, as after its unit of work: change it through a new `add`."""
        if message.id is not None:
            self.session.add(message)
            await self.session.flush()
            return message
        added = await self._insert(_ADD_MESSAGE, message)
        assert added is not None  # a plain insert adds its row or fails
        return added

    async def add_unless_stored(self, *, message: TicketMessage) -> TicketMessage | None:
        """`add` for a new message; None (nothing written) when a message with its chat and
        Telegram id is stored already (one without a Telegram id is always added)."""
        statement = _ADD_MESSAGE_UNLESS_STORED[dialect_of(self.session)]
        return await self._insert(statement, message)

    async def add_to_ticket(
        self, *, message: TicketMessage, ticket: Ticket, read_previous: bool = True
    ) -> tuple[TicketMessage | None, PreviousMessage | None]:
        """`add_unless_stored` for a message on `ticket`, whose `updated_at` becomes the
        message's time (as `TicketRepository.touch`), with the ticket's message before it
        (None: the first, or not `read_previous`). On PostgreSQL one statement (which reads
        the message before it either way); nothing is written for a message stored before:
        (None, None)."""
        assert ticket.id is not None and message.ticket_id == ticket.id
        if dialect_of(self.session) == "postgresql":
            values = {f"message_{name}": getattr(message, name) for name in _MESSAGE_COLUMNS}
            row = (await self.session.exec(_ADD_TO_TICKET_POSTGRESQL, params=values)).first()
            if row is None:
                return None, None
            new_id, direction, created_at = row
            message.id = int(new_id)
            make_transient_to_detached(message)
            set_committed_value(ticket, "updated_at", message.created_at)
            if direction is None:
                return message, None
            return message, PreviousMessage(direction, created_at)
        stored = await self.add_unless_stored(message=message)
        if stored is None:
            return None, None
        await TicketRepository(self.session).touch(ticket=ticket, now=message.created_at)
        if not read_previous:
            return stored, None
        found = (
            await self.session.exec(
                _PREVIOUS_IN_TICKET, params={"message_ticket_id": ticket.id, "new_id": stored.id}
            )
        ).first()
        return stored, PreviousMessage(*found) if found is not None else None

    async def _insert(self, statement: Any, message: TicketMessage) -> TicketMessage | None:
        values = {name: getattr(message, name) for name in _MESSAGE_COLUMNS}
        result = await self.session.exec(statement, params=values)
        new_id = result.scalar_one_or_none()
        if new_id is None:
            return None
        message.id = int(new_id)
        make_transient_to_detached(message)
        return message

    async def for_ticket(
        self, *, ticket_id: int, customer_visible_only: bool = False
    ) -> Sequence[TicketMessage]:
        statement = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
        if customer_visible_only:
            statement = statement.where(col(TicketMessage.visible_to_customer).is_(True))
        result = await self.session.exec(
            statement.order_by(col(TicketMessage.created_at), col(TicketMessage.id))
        )
        return result.all()

    async def for_customer_without_ticket(self, *, customer_id: int) -> Sequence[TicketMessage]:
        result = await self.session.exec(
            select(TicketMessage)
            .where(TicketMessage.customer_id == customer_id, col(TicketMessage.ticket_id).is_(None))
            .order_by(col(TicketMessage.id))
        )
        return result.all()


class AttachmentRepository(_Repository):
    async def add_many(self, *, attachments: Sequence[Attachment]) -> None:
        self.session.add_all(list(attachments))
        await self.session.flush()

    async def for_ticket(self, *, ticket_id: int) -> Sequence[Attachment]:
        result = await self.session.exec(
            select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(col(Attachment.id))
        )
        return result.all()


_EVENTS: Table = TicketEvent.__table__  # type: ignore[attr-defined]
# A status move, an assignment...: one statement built once (events are only ever added here).
_ADD_EVENT = insert(_EVENTS)


class EventRepository(_Repository):
    async def add(
        self,
        *,
        ticket_id: int,
        at: datetime,
        actor_kind: ActorKind,
        actor_id: int | None,
        kind: EventKind = EventKind.STATUS,
        from_status: TicketStatus | None = None,
        to_status: TicketStatus | None = None,
        comment: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        await self.session.exec(
            _ADD_EVENT,
            params={
                "ticket_id": ticket_id,
                "at": at,
                "kind": kind,
                "actor_kind": actor_kind,
                "actor_id": actor_id,
                "from_status": from_status,
                "to_status": to_status,
                "comment": comment,
                "data": data or {},
            },
        )

    async def for_ticket(self, *, ticket_id: int) -> Sequence[TicketEvent]:
        result = await self.session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(col(TicketEvent.at), col(TicketEvent.id))
        )
        return result.all()

    async def times_and_data(
        self, *, ticket_id: int, kind: EventKind
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """When each event of this kind happened and its data."""
        result = await self.session.exec(
            select(TicketEvent.at, TicketEvent.data).where(
                col(TicketEvent.ticket_id) == ticket_id, col(TicketEvent.kind) == kind
            )
        )
        return [(at, dict(data)) for at, data in result.all()]


# Adding outbox rows, leaving a key that exists alone, per dialect. Built once (building costs
# more than running it); the rows come as parameters. A table (not an entity) insert: an
# entity insert with parameters would be an ORM bulk insert.
OUTBOX_INSERT_NEW = per_dialect(
    lambda insert: insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"])
)


class OutboxRepository(_Repository):
    async def enqueue(
        self,
        *,
        key: str,
        chat_id: int,
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        ticket_id: int | None = None,
        thread_id: int | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Add a message unless one with this key exists; True when it was added.

        One Core statement (insert, ignoring a key that exists), no ORM object.
        """
        result = await self.session.exec(
            OUTBOX_INSERT_NEW[dialect_of(self.session)],
            params={
                "key": key,
                "chat_id": chat_id,
                "thread_id": thread_id,
                "kind": kind,
                "payload": payload,
                "ticket_id": ticket_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": not_before or now,
                "created_at": now,
            },
        )
        return bool(result.rowcount)

    async def enqueue_many(self, *, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """`enqueue` for many messages in one statement (executemany); each row has `key`,
        `chat_id`, `kind`, `payload` and optionally `ticket_id`, `thread_id`."""
        if not rows:
            return
        await self.session.exec(
            OUTBOX_INSERT_NEW[dialect_of(self.session)],
            params=[
                {
                    "thread_id": None,
                    "ticket_id": None,
                    **row,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for row in rows
            ],
        )
