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

from dataclasses import dataclass

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Any fixed 64-bit number, the same for every instance of the bot ("instance" in ASCII).
INSTANCE_LOCK_ID = 0x696E7374616E6365


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


@dataclass(frozen=True, slots=True)
class _Hold:
    """How a mode holds the lock: the statements that take and end its hold, and why it was
    refused."""

    take: TextClause
    give_up: TextClause
    refused: str


_ALONE = _Hold(
    text("SELECT pg_try_advisory_lock(:id)"), text("SELECT pg_advisory_unlock(:id)"), _ONLY
)
_AMONG_SEVERAL = _Hold(
    text("SELECT pg_try_advisory_lock_shared(:id)"),
    text("SELECT pg_advisory_unlock_shared(:id)"),
    _BESIDE_ONLY,
)


class InstanceLock:
    def __init__(self, engine: AsyncEngine, *, only: bool) -> None:
        """`only`: this is the only instance (held exclusively); else one of several (held
        shared)."""
        self._engine = engine
        self._hold = _ALONE if only else _AMONG_SEVERAL
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> None:
        if self._engine.dialect.name != "postgresql" or self._connection is not None:
            return
        connection = await self._engine.connect()
        try:
            taken = await connection.scalar(self._hold.take, {"id": INSTANCE_LOCK_ID})
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            raise AnotherInstanceRunning(self._hold.refused)
        self._connection = connection

    async def release(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            await connection.execute(self._hold.give_up, {"id": INSTANCE_LOCK_ID})
        finally:
            await connection.close()
