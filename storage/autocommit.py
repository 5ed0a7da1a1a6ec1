"""Connections kept ready in autocommit mode for `Database.run_each` on a server database.

`run_each` runs statements that each stand on their own (a sent outbox row recorded, an update
marked handled, a one-statement read): one round trip each, outside a transaction. Checking a
pooled connection out for every such statement, switching it to autocommit and handing it
back cost more of the bot's CPU than the statement itself: 330 µs per statement against 150 µs
on a connection kept ready (docs/benchmarks.md, "Load on PostgreSQL: connections kept
ready, a shorter delivery round, no lists expanded"). The delivery worker records every sent
message this way and the inbox marks every update handled, so a few connections are kept here
between uses instead: taken when free, a fresh one checked out from the pool when none is.

What the pool's checkout does for a connection that sat idle (`storage/idle_ping.py`) happens
here too: one kept longer than `idle` is checked with one `SELECT 1` before use and replaced
if that fails. A connection whose statement failed is closed (handed back to the pool, which
drops it if it broke), not kept; when it broke because the server went away, the kept ones
are handed back with it (the pool replaces them), as the pool drops all its connections then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.idle_ping import IDLE_BEFORE_PING

T = TypeVar("T")

KEEP = 4  # as many as run at once in a busy second (delivery chains, handlers finishing)
_PING = text("SELECT 1")


class AutocommitConnections:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        keep: int = KEEP,
        idle: float = IDLE_BEFORE_PING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._keep = keep
        self._idle = idle
        self._clock = clock
        self._free: list[tuple[AsyncConnection, float]] = []  # (connection, last used)

    async def run(self, work: Callable[[Connection], T]) -> T:
        connection = await self._take()
        try:
            result = await connection.run_sync(work)
        except BaseException:
            broken = connection.invalidated
            await connection.close()
            if broken:  # the server went away: the kept connections are gone with it
                await self._hand_back_all()
            raise
        if len(self._free) < self._keep:
            self._free.append((connection, self._clock()))
        else:
            await connection.close()
        return result

    async def close(self) -> None:
        """Hand every kept connection back to the pool (before the engine is disposed); one
        in use now is handed back when its statement is done."""
        self._keep = 0
        await self._hand_back_all()

    async def _hand_back_all(self) -> None:
        free, self._free = self._free, []
        for connection, _ in free:
            await connection.close()

    async def _take(self) -> AsyncConnection:
        while self._free:
            connection, used = self._free.pop()  # the most recently used: likely still warm
            if self._clock() - used <= self._idle:
                return connection
            try:
                await connection.execute(_PING)
            except Exception:
                await connection.invalidate()
                await connection.close()
                continue
            return connection
        fresh = await self._engine.connect()
        try:
            return await fresh.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            await fresh.close()
            raise
