"""Detection when tickets of one cluster are observed at the same time (PostgreSQL runs
updates concurrently): still exactly one alert."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.domain.clock import FrozenClock
from bot.services.incidents import IncidentConfig, IncidentContext, IncidentDetection
from storage.incident_models import IncidentAlert
from storage.models import Customer, Ticket
from storage.outbox_models import OutboxMessage
from storage.unit_of_work import Database
from tests.conftest import START, open_database
from tests.incidents.conftest import CARD_DECLINED
from tests.texts import project_catalogs


class _Buttons:
    def alert(self, alert_id: int, locale: str) -> list:
        return []


async def _tickets(database: Database, count: int) -> list[int]:
    ids = []
    async with database.unit_of_work() as uow:
        customer = Customer(telegram_id=77, first_name="C", created_at=START, updated_at=START)
        uow.session.add(customer)
        await uow.session.flush()
        assert customer.id is not None
        for index in range(count):
            ticket = await uow.tickets.add(
                ticket=Ticket(
                    number=f"C-{index + 1:06d}",
                    customer_id=customer.id,
                    category="payment",
                    description=CARD_DECLINED[index % len(CARD_DECLINED)],
                    created_at=START + timedelta(minutes=index),
                    updated_at=START,
                )
            )
            assert ticket.id is not None
            ids.append(ticket.id)
    return ids


async def _one_alert_when_racing(database: Database) -> None:
    ids = await _tickets(database, 8)
    clock = FrozenClock(START + timedelta(minutes=10))
    config = IncidentConfig(staff_chat_id=-100, supervisor_ids=(5,))
    context = IncidentContext(database, clock, project_catalogs(), config)
    services = [
        IncidentDetection(context, _Buttons())
        for _ in range(2)  # two instances, each with its own window cache
    ]
    for ticket_id in ids[:4]:
        await services[0].observe(ticket_id)
    await asyncio.gather(
        *(services[i % 2].observe(ticket_id) for i, ticket_id in enumerate(ids[4:]))
    )
    async with database.unit_of_work() as uow:
        alerts = (await uow.session.exec(select(IncidentAlert))).all()
        messages = (await uow.session.exec(select(OutboxMessage))).all()
    assert len(alerts) == 1
    assert sorted(m.chat_id for m in messages) == [-100, 5]


async def test_racing_tickets_raise_one_alert_on_sqlite(sqlite_url: str) -> None:
    database = await open_database(sqlite_url)
    try:
        await _one_alert_when_racing(database)
    finally:
        await database.dispose()


async def test_racing_tickets_raise_one_alert_on_postgresql(postgres_url: str) -> None:
    database = await open_database(postgres_url)
    try:
        await _one_alert_when_racing(database)
    finally:
        await database.dispose()
