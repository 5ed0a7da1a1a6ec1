"""`Database.read_short` on PostgreSQL: a read outside a transaction (one round trip for a
one-statement read instead of BEGIN, the read and COMMIT)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from storage.db import create_engine
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
