"""A pooled PostgreSQL connection is checked before use only after sitting idle
(`storage/idle_ping.py`): a connection that died in the pool is replaced unnoticed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.storage.server_connections import Seconds, idle_checked_engine, terminate_backend


@pytest.fixture
async def engine(postgres_url: str, seconds: Seconds) -> AsyncIterator[AsyncEngine]:
    async with idle_checked_engine(postgres_url, seconds, pool_size=1) as engine:
        yield engine


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_that_died_while_idle_is_replaced_before_use(
    engine: AsyncEngine, postgres_url: str, seconds: Seconds
) -> None:
    pid = await _backend(engine)
    await terminate_backend(postgres_url, pid)
    seconds.now += 2.5

    again = await _backend(engine)

    assert again != pid


async def test_a_connection_used_moments_ago_is_not_checked_again(
    engine: AsyncEngine, postgres_url: str, seconds: Seconds
) -> None:
    pid = await _backend(engine)
    await terminate_backend(postgres_url, pid)
    seconds.now += 1.5

    # Not checked: the dead connection is handed out and its statement fails (as if the
    # server had gone away during the statement); the pool then connects afresh.
    with pytest.raises(DBAPIError):
        await _backend(engine)
    assert await _backend(engine) != pid


async def test_the_check_is_one_statement_outside_the_transaction(
    engine: AsyncEngine, seconds: Seconds
) -> None:
    """The server is sent the check, then the transaction's own statements (SQLAlchemy's
    pre-ping on asyncpg wraps its check in a BEGIN and a ROLLBACK of their own)."""
    sent: list[str] = []
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        raw.driver_connection.add_query_logger(lambda logged: sent.append(logged.query))
    seconds.now += 2.5

    await _backend(engine)

    # asyncpg logs the queries it sends as text, not the prepared ones: the check, then the
    # connection's own transaction (ended without a commit, so rolled back)
    assert sent == ["SELECT 1", "BEGIN;", "ROLLBACK;"]
