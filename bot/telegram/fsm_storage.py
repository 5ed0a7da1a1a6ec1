"""Conversation state kept in the database, so a half-filled form survives a restart.

Reads are served from an in-process cache (bounded, least recently used first out). Inside
`batch()` (the dispatcher wraps every update in one) changes are collected and written in
one transaction when the update has been handled; outside it every change is written at
once. The cache takes a change only once its write has succeeded, so it never holds a state
the database does not. It is only correct while this process is the single writer of the
table: the app turns it off (`cache_size=0`) unless it runs in single-instance mode.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StorageKey,
)
from aiogram.types import TelegramObject

from bot.domain.clock import Clock
from storage.fsm_store import FsmStore, Record


def _clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (what the state holds; it is stored as JSON), several
    times faster than `copy.deepcopy`, which a form step would call four times."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_clone(item) for item in value)
    return value


class DatabaseStorage(BaseStorage):
    def __init__(
        self,
        store: FsmStore,
        clock: Clock,
        key_builder: KeyBuilder | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self._store = store
        self._clock = clock
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._cache: OrderedDict[str, Record] = OrderedDict()
        self._cache_size = cache_size
        # The changes of the batch (update) being handled, per task, until they are written.
        self._pending: ContextVar[dict[str, Record] | None] = ContextVar(
            "fsm_pending_writes", default=None
        )

    async def _record(self, key: str) -> Record:
        pending = self._pending.get()
        if pending is not None and key in pending:
            return pending[key]
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        record = await self._store.load(key)
        self._remember(key, record)
        return record

    def _remember(self, key: str, record: Record) -> None:
        if not self._cache_size:
            return
        self._cache[key] = record
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _write(self, key: str, state: str | None, data: dict[str, Any]) -> None:
        pending = self._pending.get()
        if pending is not None:
            pending[key] = (state, data)
            return
        await self._flush({key: (state, data)})

    async def _flush(self, records: Mapping[str, Record]) -> None:
        """Write, then (only if the write succeeded) let the cache show the new records."""
        await self._store.save(records, now=self._clock.now())
        for key, record in records.items():
            self._remember(key, record)

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Collect the changes made inside (reads inside see them) and write them in one
        transaction at the end."""
        token = self._pending.set({})
        try:
            yield
        finally:
            pending = self._pending.get() or {}
            self._pending.reset(token)
            if pending:
                await self._flush(pending)

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        name = self._keys.build(key)
        value = state.state if isinstance(state, State) else state
        _, data = await self._record(name)
        await self._write(name, value, data)

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._record(self._keys.build(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        name = self._keys.build(key)
        state, _ = await self._record(name)
        await self._write(name, state, _clone(dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._record(self._keys.build(key))
        return _clone(data)

    async def close(self) -> None:
        self._cache.clear()
        await self._store.close()


class ChatIsolation(BaseEventIsolation):
    """One update at a time per conversation (as aiogram's `SimpleEventIsolation`), without
    its ever-growing map of locks: a conversation's lock exists only while one of its
    updates is being handled or waits, so memory stays bounded however many chats write."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, asyncio.Lock] = {}
        self._users: dict[StorageKey, int] = {}

    @property
    def held(self) -> int:
        """How many conversations have a lock now."""
        return len(self._locks)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    async def close(self) -> None:
        self._locks.clear()
        self._users.clear()


class BatchWritesMiddleware(BaseMiddleware):
    """Wraps each update so its conversation-state changes reach the database together."""

    def __init__(self, storage: DatabaseStorage) -> None:
        self._storage = storage

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self._storage.batch():
            return await handler(event, data)
