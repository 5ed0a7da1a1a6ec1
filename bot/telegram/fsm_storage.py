"""Conversation state kept in the database, so a half-filled form survives a restart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey

from bot.domain.clock import Clock
from storage.unit_of_work import Database


class DatabaseStorage(BaseStorage):
    def __init__(
        self, database: Database, clock: Clock, key_builder: KeyBuilder | None = None
    ) -> None:
        self._database = database
        self._clock = clock
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def _load(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        async with self._database.unit_of_work() as uow:
            record = await uow.fsm.get(key=self._keys.build(key))
            if record is None:
                return None, {}
            return record.state, dict(record.data)

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._database.unit_of_work() as uow:
            await uow.fsm.update(key=self._keys.build(key), state=value, now=self._clock.now())

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._load(key)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._database.unit_of_work() as uow:
            await uow.fsm.update(key=self._keys.build(key), data=dict(data), now=self._clock.now())

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._load(key)
        return data

    async def close(self) -> None:
        return None
