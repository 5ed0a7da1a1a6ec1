"""The instance modes on PostgreSQL kept apart: a session advisory lock held while the bot runs.

In-process caches (customer profiles, conversation state, ticket cards) are correct only while
one process writes the database, and the delivery worker of the only instance claims outbox
rows without the lock that keeps two instances' claims apart (`storage/delivery_store.py`).
When the bot is told it is the only instance (`SINGLE_INSTANCE=true`) on PostgreSQL, it holds
this lock exclusively on a dedicated connection; each instance of a desk with several holds it
shared. So a second single instance, or a single instance beside others, cannot take it and
refuses to start, and so does an instance started beside a single one. If a process dies, its
connection closes and its hold ends.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Any fixed 64-bit number, the same for every instance of the bot ("instance" in ASCII).
INSTANCE_LOCK_ID = 0x696E7374616E6365
_TAKE = text("SELECT pg_try_advisory_lock(:id)")
_TAKE_SHARED = text("SELECT pg_try_advisory_lock_shared(:id)")
_GIVE_UP = text("SELECT pg_advisory_unlock(:id)")
_GIVE_UP_SHARED = text("SELECT pg_advisory_unlock_shared(:id)")


class AnotherInstanceRunning(RuntimeError):
    """This instance's mode does not allow the instances already running on this database."""


_ONLY = (
    "another instance of the bot runs on this database, and with SINGLE_INSTANCE=true this one "
    "must be the only one; stop it, or run every instance with REDIS_URL set and "
    "SINGLE_INSTANCE unset"
)
_BESIDE_ONLY = (
    "an instance of the bot with SINGLE_INSTANCE=true runs on this database and must be the "
    "only one; stop it, or run every instance with REDIS_URL set and SINGLE_INSTANCE unset"
)


class InstanceLock:
    def __init__(self, engine: AsyncEngine, *, only: bool) -> None:
        """`only`: this is the only instance (held exclusively); else one of several (held
        shared)."""
        self._engine = engine
        self._only = only
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> None:
        if self._engine.dialect.name != "postgresql" or self._connection is not None:
            return
        connection = await self._engine.connect()
        try:
            taken = await connection.scalar(
                _TAKE if self._only else _TAKE_SHARED, {"id": INSTANCE_LOCK_ID}
            )
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            raise AnotherInstanceRunning(_ONLY if self._only else _BESIDE_ONLY)
        self._connection = connection

    async def release(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            await connection.execute(
                _GIVE_UP if self._only else _GIVE_UP_SHARED, {"id": INSTANCE_LOCK_ID}
            )
        finally:
            await connection.close()
