"""Reads and writes outside a transaction on PostgreSQL (one round trip for a statement instead
of BEGIN, the statement and COMMIT): `Database.read_short`, `Database.run_each` and the
reading unit of work (`Database.reading`), which refuses to write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import create_engine
from storage.models import Customer
from storage.unit_of_work import Database


def _transaction_starts(connection: Connection) -> tuple[datetime, datetime]:
    # now() is when the statement's transaction started: equal within one transaction.
    first = connection.execute(text("SELECT now()")).scalar_one()
    second = connection.execute(text("SELECT now()")).scalar_one()
    return first, second


async def test_a_short_read_runs_each_statement_outside_a_transaction(postgres_url: str) -> None:
    database = Database(create_engine(postgres_url))
    try:
        first, second = await database.read_short(_transaction_starts)
        written_first, written_second = await database.run_short(_transaction_starts)
    finally:
        await database.dispose()

    assert first < second
    assert written_first == written_second


async def test_statements_that_stand_alone_each_commit_by_themselves(postgres_url: str) -> None:
    database = Database(create_engine(postgres_url))
    try:
        first, second = await database.run_each(_transaction_starts)
    finally:
        await database.dispose()

    assert first < second


async def _session_transaction_starts(session: AsyncSession) -> tuple[datetime, datetime]:
    connection = await session.connection()
    first = (await connection.execute(text("SELECT now()"))).scalar_one()
    second = (await connection.execute(text("SELECT now()"))).scalar_one()
    return first, second


async def test_a_reading_unit_of_work_runs_outside_a_transaction(postgres_url: str) -> None:
    database = Database(create_engine(postgres_url))
    try:
        async with database.reading() as uow:
            first, second = await _session_transaction_starts(uow.session)
        async with database.unit_of_work() as uow:
            written_first, written_second = await _session_transaction_starts(uow.session)
    finally:
        await database.dispose()

    assert first < second
    assert written_first == written_second


async def test_a_reading_unit_of_work_writes_nothing(any_database: Database) -> None:
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    with pytest.raises(RuntimeError, match="writes nothing"):
        async with any_database.reading() as uow:
            uow.session.add(
                Customer(telegram_id=77, first_name="Ann", created_at=now, updated_at=now)
            )
            await uow.session.flush()
    async with any_database.reading() as uow:
        assert await uow.customers.by_telegram_id(telegram_id=77) is None
