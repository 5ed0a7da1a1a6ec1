"""Seeding tickets and reading back what the sweeps left: outbox rows and events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import Actor, Priority, TicketStatus
from bot.services.intake import ComplaintForm
from bot.services.sla_sweeps import SlaSweeps
from bot.services.sweep_config import SweepConfig
from bot.services.tickets import TicketService
from bot.services.transitions import apply_transition
from storage.models import Customer, Ticket, TicketEvent
from storage.outbox_models import OutboxMessage
from storage.unit_of_work import Database
from tests.texts import project_catalogs

STAFF_CHAT = -1001234567890
SUPERVISOR = 777
ZONE = ZoneInfo("Europe/Moscow")


def sweep_config(**overrides: object) -> SweepConfig:
    values: dict[str, object] = {
        "staff_chat_id": STAFF_CHAT,
        "staff_locale": "en",
        "zone": ZONE,
        "supervisor_ids": (SUPERVISOR,),
    }
    values.update(overrides)
    return SweepConfig(**values)  # type: ignore[arg-type]


def make_sweeps(
    database: Database, clock: FrozenClock, sla: SlaPolicy | None = None, **overrides: object
) -> SlaSweeps:
    return SlaSweeps(
        database,
        clock,
        sla or SlaPolicy(),
        project_catalogs("ru"),
        sweep_config(**overrides),
    )


async def add_customer(
    database: Database, clock: FrozenClock, telegram_id: int = 1001, locale: str = "en"
) -> int:
    async with database.unit_of_work() as uow:
        customer = await uow.customers.register(
            telegram_id=telegram_id,
            first_name="Ivan",
            last_name=None,
            username=None,
            language_code=locale,
            locale=locale,
            now=clock.now(),
        )
        assert customer.id is not None
        return customer.id


async def open_ticket(
    database: Database,
    clock: FrozenClock,
    customer_id: int,
    *,
    priority: str = "normal",
    sla: SlaPolicy | None = None,
    topic_id: int | None = 55,
    assignee_id: int | None = None,
) -> Ticket:
    service = TicketService(database, clock, sla or SlaPolicy())
    ticket = await service.open_complaint(
        customer_id=customer_id,
        form=ComplaintForm(
            category="delivery",
            description="late",
            incident_date=None,
            priority=Priority(priority),
        ),
    )
    if topic_id is not None or assignee_id is not None:
        async with database.unit_of_work() as uow:
            stored = await uow.tickets.get(ticket_id=ticket.id or 0)
            assert stored is not None
            stored.topic_id = topic_id
            stored.assignee_id = assignee_id
            await uow.tickets.save(ticket=stored)
    return ticket


async def move(
    database: Database,
    clock: FrozenClock,
    ticket_id: int,
    *status: TicketStatus,
    sla: SlaPolicy | None = None,
) -> None:
    async with database.unit_of_work() as uow:
        ticket = await uow.tickets.get(ticket_id=ticket_id)
        assert ticket is not None
        for target in status:
            await apply_transition(
                uow,
                ticket=ticket,
                target=target,
                actor=Actor.agent(500),
                now=clock.now(),
                sla=sla or SlaPolicy(),
            )


async def respond(database: Database, clock: FrozenClock, ticket_id: int) -> None:
    """An agent takes the ticket: the first response is recorded."""
    async with database.unit_of_work() as uow:
        ticket = await uow.tickets.get(ticket_id=ticket_id)
        assert ticket is not None
        ticket.first_response_at = clock.now()
        ticket.first_response_due = None
        await uow.tickets.save(ticket=ticket)


async def outbox(database: Database) -> list[OutboxMessage]:
    async with database.unit_of_work() as uow:
        rows = await uow.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        return list(rows.all())


async def events(database: Database, kind: str | None = None) -> list[TicketEvent]:
    async with database.unit_of_work() as uow:
        statement = select(TicketEvent).order_by(col(TicketEvent.id))
        if kind is not None:
            statement = statement.where(TicketEvent.kind == kind)
        rows = await uow.session.exec(statement)
        return list(rows.all())


async def ticket(database: Database, ticket_id: int) -> Ticket:
    async with database.unit_of_work() as uow:
        stored = await uow.tickets.get(ticket_id=ticket_id)
        assert stored is not None
        return stored


async def customer(database: Database, customer_id: int) -> Customer:
    async with database.unit_of_work() as uow:
        stored = await uow.customers.get(customer_id=customer_id)
        assert stored is not None
        return stored


def keys(rows: Sequence[OutboxMessage]) -> list[str]:
    return [row.key for row in rows]


HOUR = timedelta(hours=1)
