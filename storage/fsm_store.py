"""Persistence of conversation state: one small key-value table, written on every form step.

It is the hottest write of the bot, so it skips the ORM: prebuilt Core statements in one
short transaction through `Database.run_short`, the path of the inbox and the delivery
worker (on a SQLite file synchronously on the event loop, see `storage/embedded_sqlite.py`;
elsewhere, in-memory SQLite included, on the async engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Table, bindparam, delete, select

from storage.dialects import per_dialect
from storage.models import FsmRecord
from storage.unit_of_work import Database

Record = tuple[str | None, dict[str, Any]]
FSM: Table = FsmRecord.__table__  # type: ignore[attr-defined]


class FsmStore(Protocol):
    async def load(self, key: str) -> Record: ...

    async def save(self, records: Mapping[str, Record], *, now: datetime) -> None: ...

    async def close(self) -> None: ...


def _is_empty(record: Record) -> bool:
    state, data = record
    return state is None and not data


# Built once, with bound parameters: building a statement costs more than running it.
_LOAD = select(FSM.c.state, FSM.c.data).where(FSM.c.key == bindparam("key"))
_DELETE = delete(FSM).where(FSM.c.key == bindparam("key"))


def _upsert(insert: Any) -> Any:
    statement = insert(FSM)
    return statement.on_conflict_do_update(
        index_elements=[FSM.c.key],
        set_={
            "state": statement.excluded.state,
            "data": statement.excluded.data,
            "updated_at": statement.excluded.updated_at,
        },
    )


_UPSERT = per_dialect(_upsert)


class DatabaseFsmStore:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._upsert = _UPSERT[database.dialect]

    async def load(self, key: str) -> Record:
        def work(connection: Connection) -> Record:
            row = connection.execute(_LOAD, {"key": key}).first()
            return (None, {}) if row is None else (row.state, dict(row.data))

        return await self._database.read_short(work)

    async def save(self, records: Mapping[str, Record], *, now: datetime) -> None:
        removed = [{"key": key} for key, record in records.items() if _is_empty(record)]
        kept = [
            {"key": key, "state": record[0], "data": record[1], "updated_at": now}
            for key, record in records.items()
            if not _is_empty(record)
        ]

        def work(connection: Connection) -> None:
            if removed:
                connection.execute(_DELETE, removed)
            if kept:
                connection.execute(self._upsert, kept)

        await self._database.run_short(work)

    async def close(self) -> None:
        return None


def fsm_store_for(database: Database) -> FsmStore:
    return DatabaseFsmStore(database)
