"""A pooled PostgreSQL connection the server dropped is replaced before a unit of work uses it
(the pool's one-round-trip check, `storage.db`)."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import create_engine
from storage.unit_of_work import Database
from tests.conftest import open_database


async def _backend_pid(database: Database) -> int:
    async with database.unit_of_work() as uow:
        return int((await uow.session.exec(text("SELECT pg_backend_pid()"))).scalar_one())  # type: ignore[call-overload]


async def test_a_connection_dropped_by_the_server_is_replaced(postgres_url: str) -> None:
    database = await open_database(postgres_url)
    killer = create_engine(postgres_url)
    try:
        first = await _backend_pid(database)
        assert await _backend_pid(database) == first  # the pool hands the same one back
        async with killer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        second = await _backend_pid(database)
        assert second != first
        assert await _backend_pid(database) == second
    finally:
        await killer.dispose()
        await database.dispose()


async def test_the_check_is_one_round_trip_outside_the_transaction(postgres_url: str) -> None:
    """The server is sent the check, then the unit of work's transaction (SQLAlchemy's own
    pre-ping wraps its check in a BEGIN and a ROLLBACK of their own)."""
    database = await open_database(postgres_url)
    sent: list[str] = []
    try:
        async with database.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert raw.driver_connection is not None
            raw.driver_connection.add_query_logger(lambda logged: sent.append(logged.query))
        await _backend_pid(database)
        # (asyncpg logs the queries it sends as text, not the prepared ones)
        assert sent[:2] == ["SELECT 1", "BEGIN;"]
        assert not [query for query in sent if query.startswith("ROLLBACK")]
    finally:
        await database.dispose()
