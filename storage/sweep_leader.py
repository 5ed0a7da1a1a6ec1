"""Which process runs the sweeps: one leader per database.

On PostgreSQL the leader holds a session-level advisory lock on a dedicated connection; if the
process dies, the connection closes and the lock is released, so another instance takes over
at its next tick. SQLite is single-host and single-process here, so every instance leads.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# Any fixed 64-bit number, the same for every instance of the bot ("sweeps" in ASCII).
SWEEP_LOCK_ID = 0x7377656570730001


class Leadership(Protocol):
    async def acquire(self) -> bool:
        """True when this process may run the sweeps now (taking the lead if it is free)."""
        ...

    async def release(self) -> None: ...


class SingleInstance:
    """No coordination needed (SQLite)."""

    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class PostgresAdvisoryLock:
    def __init__(self, engine: AsyncEngine, lock_id: int = SWEEP_LOCK_ID) -> None:
        self._engine = engine
        self._lock_id = lock_id
        self._connection: AsyncConnection | None = None
        self._guard = asyncio.Lock()  # one lock connection per process, even with overlapping ticks

    @property
    def held(self) -> bool:
        return self._connection is not None

    async def acquire(self) -> bool:
        async with self._guard:
            return await self._acquire()

    async def _acquire(self) -> bool:
        if self._connection is not None:
            if await self._still_alive(self._connection):
                return True
            await self._drop()
        connection = await self._engine.connect()
        try:
            result = await connection.execute(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": self._lock_id}
            )
            got = bool(result.scalar_one())
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        log.info("this instance now runs the scheduled sweeps")
        self._connection = connection
        return True

    async def _still_alive(self, connection: AsyncConnection) -> bool:
        try:
            await connection.execute(text("SELECT 1"))
            await connection.commit()
        except Exception:
            log.warning("lost the connection holding the sweep lock", exc_info=True)
            return False
        return True

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:
                log.debug("closing a broken lock connection failed", exc_info=True)

    async def release(self) -> None:
        async with self._guard:
            await self._release()

    async def _release(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": self._lock_id})
            await connection.commit()
        except Exception:
            log.debug("unlocking failed; closing the connection releases the lock", exc_info=True)
        await self._drop()


def leadership_for(engine: AsyncEngine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine)
    return SingleInstance()
