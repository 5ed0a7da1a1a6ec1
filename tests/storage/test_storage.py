"""Storage on SQLite and PostgreSQL: schema = models, unique numbers, UTC times."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.metadata import metadata
from storage.models import Ticket
from storage.unit_of_work import Database
from tests.conftest import open_database, requires_postgres, temporary_postgres_database

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_produce_the_schema_of_the_models(any_database: Database) -> None:
    async with any_database.engine.connect() as connection:
        diff = await connection.run_sync(_schema_diff)
    assert diff == []


async def test_sqlite_runs_in_wal_mode(database: Database) -> None:
    async with database.engine.connect() as connection:
        mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
    assert mode == "wal"
    assert foreign_keys == 1


async def _customer(db: Database, telegram_id: int) -> int:
    async with db.unit_of_work() as uow:
        customer = await uow.customers.register(
            telegram_id=telegram_id,
            first_name="Ivan",
            last_name=None,
            username=None,
            language_code="ru",
            locale="ru",
            now=NOW,
        )
        assert customer.id is not None
        return customer.id


async def _register_ticket(db: Database, customer_id: int) -> str:
    async with db.unit_of_work() as uow:
        value = await uow.tickets.next_sequence()
        ticket = await uow.tickets.add(
            ticket=Ticket(
                number=f"C-{value:06d}",
                customer_id=customer_id,
                category="delivery",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        return ticket.number


async def test_ticket_numbers_follow_each_other(any_database: Database) -> None:
    customer_id = await _customer(any_database, 1)
    numbers = [await _register_ticket(any_database, customer_id) for _ in range(3)]
    assert numbers == ["C-000001", "C-000002", "C-000003"]


@requires_postgres
async def test_twenty_concurrent_submissions_get_unique_numbers_on_postgres() -> None:
    async with temporary_postgres_database() as url:
        db = await open_database(url)
        try:
            customer_ids = [await _customer(db, 100 + i) for i in range(20)]
            numbers = await asyncio.gather(*(_register_ticket(db, c) for c in customer_ids))
        finally:
            await db.dispose()
    assert len(set(numbers)) == 20
    assert sorted(numbers) == [f"C-{i:06d}" for i in range(1, 21)]


async def test_twenty_concurrent_submissions_get_unique_numbers_on_sqlite(
    database: Database,
) -> None:
    customer_ids = [await _customer(database, 100 + i) for i in range(20)]
    numbers = await asyncio.gather(*(_register_ticket(database, c) for c in customer_ids))
    assert sorted(numbers) == [f"C-{i:06d}" for i in range(1, 21)]


async def test_times_come_back_as_aware_utc(any_database: Database) -> None:
    customer_id = await _customer(any_database, 7)
    number = await _register_ticket(any_database, customer_id)
    async with any_database.unit_of_work() as uow:
        ticket = await uow.tickets.by_number(number=number)
    assert ticket is not None
    assert ticket.created_at == NOW
    assert ticket.created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        async with database.unit_of_work() as uow:
            await uow.customers.register(
                telegram_id=5,
                first_name="A",
                last_name=None,
                username=None,
                language_code=None,
                locale="en",
                now=datetime(2026, 1, 1),
            )


async def test_register_refreshes_profile_without_duplicating(database: Database) -> None:
    first = await _customer(database, 9)
    async with database.unit_of_work() as uow:
        again = await uow.customers.register(
            telegram_id=9,
            first_name="Ivan",
            last_name="Petrov",
            username="ivanp",
            language_code="ru",
            locale="ru",
            now=NOW + timedelta(hours=1),
        )
    assert again.id == first
    assert again.last_name == "Petrov"


async def test_sqlite_folder_is_created(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'deeper' / 'bot.db'}"
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert (tmp_path / "nested" / "deeper" / "bot.db").exists()
