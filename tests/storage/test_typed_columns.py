"""Status, priority, kind, decision and the audit log's kinds are the domain's enums in the
columns: stored as their plain values, read back as members, and nothing else gets in
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from bot.domain.tickets import (
    ActorKind,
    EventKind,
    Priority,
    ResolutionType,
    TicketKind,
    TicketStatus,
)
from storage.models import Ticket
from storage.unit_of_work import Database

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def _customer(db: Database) -> int:
    async with db.unit_of_work() as uow:
        customer = await uow.customers.register(
            telegram_id=42,
            first_name="Ivan",
            last_name=None,
            username=None,
            language_code="ru",
            locale="ru",
            now=NOW,
        )
        assert customer.id is not None
        return customer.id


def _ticket(customer_id: int, **values: Any) -> Ticket:
    return Ticket(
        number="C-000001",
        customer_id=customer_id,
        category="delivery",
        created_at=NOW,
        updated_at=NOW,
        **values,
    )


async def test_a_ticket_and_its_events_read_back_as_enums(any_database: Database) -> None:
    customer_id = await _customer(any_database)
    async with any_database.unit_of_work() as uow:
        ticket = await uow.tickets.add(
            ticket=_ticket(customer_id, kind=TicketKind.QUESTION, priority=Priority.URGENT)
        )
        assert ticket.id is not None
        await uow.events.add(
            ticket_id=ticket.id,
            at=NOW,
            actor_kind=ActorKind.AGENT,
            actor_id=7,
            from_status=TicketStatus.NEW,
            to_status=TicketStatus.RESOLVED,
        )
        ticket.status = TicketStatus.RESOLVED
        ticket.resolution_type = ResolutionType.REFUND
        await uow.tickets.save(ticket=ticket)

    async with any_database.unit_of_work() as uow:
        stored = await uow.tickets.by_number(number="C-000001")
        assert stored is not None and stored.id is not None
        events = await uow.events.for_ticket(ticket_id=stored.id)
    assert stored.status is TicketStatus.RESOLVED
    assert not stored.status.is_open
    assert stored.priority is Priority.URGENT
    assert stored.kind is TicketKind.QUESTION
    assert stored.resolution_type is ResolutionType.REFUND
    [event] = events
    assert event.kind is EventKind.STATUS
    assert event.actor_kind is ActorKind.AGENT
    assert (event.from_status, event.to_status) == (TicketStatus.NEW, TicketStatus.RESOLVED)
    assert type(event.to_status) is TicketStatus

    async with any_database.engine.connect() as connection:
        raw = (
            await connection.execute(
                text("SELECT status, priority, kind, resolution_type FROM tickets")
            )
        ).one()
    assert tuple(raw) == ("resolved", "urgent", "question", "refund")


async def test_a_value_outside_the_enum_is_not_written(any_database: Database) -> None:
    customer_id = await _customer(any_database)
    with pytest.raises(StatementError, match="'done' is not a TicketStatus"):
        async with any_database.unit_of_work() as uow:
            await uow.tickets.add(ticket=_ticket(customer_id, status="done"))
    with pytest.raises(StatementError, match="'asap' is not a Priority"):
        async with any_database.unit_of_work() as uow:
            await uow.tickets.add(ticket=_ticket(customer_id, priority="asap"))
    async with any_database.unit_of_work() as uow:
        assert await uow.tickets.by_number(number="C-000001") is None


async def test_a_stored_value_outside_the_enum_fails_when_read(any_database: Database) -> None:
    customer_id = await _customer(any_database)
    async with any_database.unit_of_work() as uow:
        await uow.tickets.add(ticket=_ticket(customer_id))
    async with any_database.engine.begin() as connection:
        await connection.execute(text("UPDATE tickets SET status = 'archived'"))
    with pytest.raises(ValueError, match="'archived' is not a TicketStatus"):
        async with any_database.unit_of_work() as uow:
            await uow.tickets.by_number(number="C-000001")
