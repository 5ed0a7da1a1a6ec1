"""For the tests of connections to PostgreSQL that sit idle or die: a clock of seconds the test
moves, and ending a connection's server process from outside (as a restart or a firewall
would)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.idle_ping import ping_when_idle


class Seconds:
    """`time.monotonic` as the test sets it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def idle_checked_engine(
    postgres_url: str, clock: Seconds, *, pool_size: int
) -> AsyncIterator[AsyncEngine]:
    """An engine whose pool checks a connection idle over 2 s on `clock`, as the bot's does
    (`storage/idle_ping.py`)."""
    engine = create_async_engine(postgres_url, pool_size=pool_size, max_overflow=0)
    ping_when_idle(engine, idle=2.0, clock=clock)
    try:
        yield engine
    finally:
        await engine.dispose()


async def terminate_backend(postgres_url: str, pid: int) -> None:
    """End the server process `pid` (a connection's `pg_backend_pid()`) from another one."""
    other = create_async_engine(postgres_url)
    try:
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()
