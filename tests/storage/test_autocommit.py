"""Connections kept ready for one-statement work on PostgreSQL (`storage/autocommit.py`):
reused while busy, checked after sitting idle, dropped when broken, handed back on dispose."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.autocommit import AutocommitConnections
from tests.storage.server_connections import Seconds, idle_checked_engine, terminate_backend


@pytest.fixture
async def engine(postgres_url: str, seconds: Seconds) -> AsyncIterator[AsyncEngine]:
    async with idle_checked_engine(postgres_url, seconds, pool_size=3) as engine:
        yield engine


@pytest.fixture
async def kept(engine: AsyncEngine, seconds: Seconds) -> AsyncIterator[AutocommitConnections]:
    connections = AutocommitConnections(engine, keep=1, idle=2.0, clock=seconds)
    yield connections
    await connections.close()


def _backend(connection: Connection) -> int:
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _checkouts(engine: AsyncEngine) -> list[int]:
    taken: list[int] = []
    event.listen(engine.sync_engine, "checkout", lambda *_: taken.append(1))
    return taken


async def test_statements_one_after_another_share_one_connection_checked_out_once(
    engine: AsyncEngine, kept: AutocommitConnections, seconds: Seconds
) -> None:
    checkouts = _checkouts(engine)

    first = await kept.run(_backend)
    seconds.now += 1.0
    second = await kept.run(_backend)

    assert first == second
    assert len(checkouts) == 1


async def test_each_statement_commits_by_itself(kept: AutocommitConnections) -> None:
    def starts(connection: Connection) -> list[object]:
        return [connection.execute(text("SELECT now()")).scalar_one() for _ in range(2)]

    first, second = await kept.run(starts)

    assert first != second  # now() is the transaction's start: two transactions


async def test_a_kept_connection_that_died_while_idle_is_replaced_before_use(
    kept: AutocommitConnections, postgres_url: str, seconds: Seconds
) -> None:
    pid = await kept.run(_backend)
    await terminate_backend(postgres_url, pid)
    seconds.now += 2.5

    assert await kept.run(_backend) != pid


async def test_a_statement_on_a_connection_that_broke_fails_once_then_a_new_one_is_used(
    engine: AsyncEngine, kept: AutocommitConnections, postgres_url: str, seconds: Seconds
) -> None:
    pid = await kept.run(_backend)
    await terminate_backend(postgres_url, pid)
    seconds.now += 1.0  # used moments ago: not checked, as the pool does not check either

    with pytest.raises(DBAPIError):
        await kept.run(_backend)
    checkouts = _checkouts(engine)
    assert await kept.run(_backend) != pid
    await kept.run(_backend)
    assert len(checkouts) == 1  # the new connection is kept, as before the failure


async def test_a_failed_statement_does_not_leave_its_connection_kept(
    engine: AsyncEngine, kept: AutocommitConnections
) -> None:
    pid = await kept.run(_backend)

    def duplicate(connection: Connection) -> None:
        connection.execute(text("CREATE TEMPORARY TABLE once (id int primary key)"))
        connection.execute(text("INSERT INTO once VALUES (1), (1)"))

    with pytest.raises(IntegrityError):
        await kept.run(duplicate)

    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert await kept.run(_backend) == pid  # back in the pool, healthy, and taken again


async def test_no_more_are_kept_than_asked_and_close_hands_them_back(
    engine: AsyncEngine, kept: AutocommitConnections
) -> None:
    def slow(connection: Connection) -> int:
        connection.execute(text("SELECT pg_sleep(0.05)"))
        return _backend(connection)

    pids = await asyncio.gather(kept.run(slow), kept.run(slow))

    assert len(set(pids)) == 2  # side by side: each on a connection of its own
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]  # one kept
    await kept.close()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_after_closing_nothing_is_kept(
    engine: AsyncEngine, kept: AutocommitConnections
) -> None:
    """A statement still running when the database is disposed hands its connection back."""
    await kept.close()

    await kept.run(_backend)

    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
