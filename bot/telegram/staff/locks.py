"""Per-ticket locks: in-process for one instance, Redis when several instances share the work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol


class TicketLocks(Protocol):
    def hold(self, ticket_id: int) -> Any:
        """An async context manager held while a ticket's topic is created or replaced."""
        ...


class LocalLocks:
    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @asynccontextmanager
    async def hold(self, ticket_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(ticket_id, asyncio.Lock())
        self._users[ticket_id] = self._users.get(ticket_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[ticket_id] -= 1
            if not self._users[ticket_id]:
                del self._users[ticket_id]
                del self._locks[ticket_id]


class RedisLocks:
    """A Redis lock per ticket (with a timeout, so a crashed holder never blocks forever),
    under the bot's `REDIS_PREFIX` like every other key of the bot."""

    def __init__(self, url: str, *, prefix: str, timeout: float = 30.0) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix
        self._timeout = timeout
        self._local = LocalLocks()

    @asynccontextmanager
    async def hold(self, ticket_id: int) -> AsyncIterator[None]:
        async with self._local.hold(ticket_id):
            lock = self._redis.lock(
                self.key(ticket_id),
                timeout=self._timeout,
                blocking_timeout=self._timeout,
            )
            async with lock:
                yield

    def key(self, ticket_id: int) -> str:
        return f"{self._prefix}:ticket-lock:{ticket_id}"

    async def close(self) -> None:
        await self._redis.aclose()
