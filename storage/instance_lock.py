"""Single-instance mode on PostgreSQL: a session advisory lock held for as long as the bot runs.

In-process caches (customer profiles, conversation state, ticket cards) are correct only while
one process writes the database. When the bot is told it is the only instance
(`SINGLE_INSTANCE=true`) on PostgreSQL, it holds this lock on a dedicated connection; a second
instance started on the same database cannot take it and refuses to start. If the process
dies, its connection closes and the lock is free again.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Any fixed 64-bit number, the same for every instance of the bot ("instance" in ASCII).
INSTANCE_LOCK_ID = 0x696E7374616E6365


class AnotherInstanceRunning(RuntimeError):
    """Another instance in single-instance mode already runs on this database."""


class InstanceLock:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> None:
        if self._engine.dialect.name != "postgresql" or self._connection is not None:
            return
        connection = await self._engine.connect()
        try:
            taken = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": INSTANCE_LOCK_ID}
            )
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            raise AnotherInstanceRunning(
                "another instance of the bot runs on this database with SINGLE_INSTANCE=true; "
                "stop it, or run several instances with REDIS_URL set and SINGLE_INSTANCE unset"
            )
        self._connection = connection

    async def release(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:id)"), {"id": INSTANCE_LOCK_ID}
            )
        finally:
            await connection.close()
