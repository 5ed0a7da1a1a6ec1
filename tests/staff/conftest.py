"""A running desk with a staff group, agents and customers, and helpers to deliver the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.domain.clock import FrozenClock
from bot.services.intake import ComplaintForm
from bot.telegram.pacing import RedisPacer
from storage.models import Ticket
from storage.outbox_models import PENDING, SENDING, OutboxMessage
from storage.unit_of_work import Database
from tests.conftest import REDIS_URL, requires_postgres, temporary_postgres_database
from tests.harness import STAFF_CHAT_ID, Desk, running_desk
from tests.telegram_fake import TelegramUser

STAFF = STAFF_CHAT_ID
IVAN = TelegramUser(1001, "Ivan", "Petrov", "ivanp", "en")
MARIA = TelegramUser(1002, "Мария", "Иванова", None, "ru")
ANNA = TelegramUser(2001, "Anna", "Agent", "anna_agent", "en")
BORIS = TelegramUser(2002, "Boris", "Second", "boris_agent", "ru")
OUTSIDER = TelegramUser(3001, "Random", "Member", "random", "en")


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path, clock) as running:
        yield running


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
async def any_desk(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Desk]:
    """The staff desk on SQLite and, when available, on PostgreSQL."""
    if request.param == "sqlite":
        async with open_desk(tmp_path, clock) as running:
            yield running
        return
    async with (
        temporary_postgres_database() as url,
        open_desk(tmp_path, clock, database_url=url) as running,
    ):
        yield running


def open_desk(tmp_path: Path, clock: FrozenClock, **overrides: Any) -> Any:
    return _Opened(tmp_path, clock, overrides)


class _Opened:
    def __init__(self, tmp_path: Path, clock: FrozenClock, overrides: dict[str, Any]) -> None:
        self._context = running_desk(tmp_path, clock, **overrides)

    async def __aenter__(self) -> Desk:
        desk = await self._context.__aenter__()
        for user in (IVAN, MARIA, ANNA, BORIS, OUTSIDER):
            desk.fake.add_user(user)
        desk.fake.set_forum(STAFF, True)
        desk.fake.set_admins(STAFF, [ANNA.id, BORIS.id])
        return desk

    async def __aexit__(self, *exc: Any) -> None:
        await self._context.__aexit__(*exc)


async def next_attempt_at(database: Database) -> Any:
    """When the earliest row still to send (or being sent) is due; None when none is."""
    async with database.unit_of_work() as uow:
        result = await uow.session.exec(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                col(OutboxMessage.status).in_((PENDING, SENDING))
            )
        )
        return result.one()


async def deliver(desk: Desk, *, max_wait: timedelta = timedelta(minutes=5)) -> int:
    """Run the delivery worker until the outbox is empty, moving the clock past pacing pauses."""
    staff = desk.app.staff
    assert staff is not None
    waited = timedelta(0)
    total = 0
    while True:
        total += await staff.delivery.run_once()
        next_due = await next_attempt_at(desk.database)
        if next_due is None or waited >= max_wait:
            return total
        step = max(next_due - desk.clock.now(), timedelta(seconds=1))
        desk.clock.advance(step)
        waited += step


async def start(desk: Desk, user: TelegramUser) -> int:
    """The customer presses /start; returns their customer id."""
    await desk.command(user, "start")
    async with desk.database.unit_of_work() as uow:
        customer = await uow.customers.by_telegram_id(telegram_id=user.id)
        assert customer is not None and customer.id is not None
        return customer.id


async def open_ticket(
    desk: Desk,
    user: TelegramUser,
    *,
    category: str = "delivery",
    description: str = "The parcel did not arrive",
    **form: Any,
) -> Ticket:
    customer_id = await start(desk, user)
    ticket = await desk.app.tickets.open_complaint(
        customer_id=customer_id,
        form=ComplaintForm(category=category, description=description, incident_date=None, **form),
    )
    await deliver(desk)  # the delivery worker opens the ticket's topic with its card
    return ticket


async def ticket(desk: Desk, ticket_id: int) -> Ticket:
    async with desk.database.unit_of_work() as uow:
        found = await uow.tickets.get(ticket_id=ticket_id)
        assert found is not None
        return found


def topic_texts(desk: Desk, topic_id: int | None) -> list[str]:
    return desk.fake.texts_to(STAFF, thread_id=topic_id)


@pytest.fixture
async def shared_pacers(redis_prefix: str) -> AsyncIterator[list[RedisPacer]]:
    """Two instances' pacers on one Redis."""
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set (CI sets it to the local Redis)")
    pacers = [RedisPacer.from_url(REDIS_URL, prefix=redis_prefix) for _ in range(2)]
    yield pacers
    for pacer in pacers:
        await pacer.close()
