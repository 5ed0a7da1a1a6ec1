"""For the tests of connections to PostgreSQL that sit idle or die: a clock of seconds the test
moves, and ending a connection's server process from outside (as a restart or a firewall
would)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


class Seconds:
    """`time.monotonic` as the test sets it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def terminate_backend(postgres_url: str, pid: int) -> None:
    """End the server process `pid` (a connection's `pg_backend_pid()`) from another one."""
    other = create_async_engine(postgres_url)
    try:
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()
