"""Persistence of conversation state: one small key-value table, written on every form step.

It bypasses the ORM because it is the hottest write of the bot: with SQLite a dedicated
connection writes a step in a small fraction of the time of an ORM unit of work, under the
same in-process write lock as the units of work, so SQLite never sees two writers. Other
databases use one Core upsert per key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url

from storage.models import FsmRecord
from storage.unit_of_work import Database

Record = tuple[str | None, dict[str, Any]]


class FsmStore(Protocol):
    async def load(self, key: str) -> Record: ...

    async def save(self, records: Mapping[str, Record], *, now: datetime) -> None: ...

    async def close(self) -> None: ...


def _is_empty(record: Record) -> bool:
    state, data = record
    return state is None and not data


class SqliteFsmStore:
    """Synchronous sqlite3 on the event loop, on purpose: in WAL mode with
    `synchronous=NORMAL` a one-row upsert and commit take microseconds, far less than the
    thread round trips an async driver needs. Reads never wait in WAL mode; writes take the
    process's SQLite write lock first, so no writer of this process can be in the way, and a
    short busy timeout bounds the wait should another process hold the file."""

    BUSY_TIMEOUT_MS = 250

    def __init__(self, database: Database) -> None:
        path = make_url(str(database.engine.url)).database
        if not path:
            raise ValueError("SQLite conversation state needs a database file")
        self._path = Path(path)
        self._database = database
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None)
            connection.execute(f"PRAGMA busy_timeout={self.BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._connection = connection
        return self._connection

    async def load(self, key: str) -> Record:
        row = (
            self._connect()
            .execute("SELECT state, data FROM fsm_states WHERE key = ?", (key,))
            .fetchone()
        )
        if row is None:
            return None, {}
        return row[0], json.loads(row[1])

    async def save(self, records: Mapping[str, Record], *, now: datetime) -> None:
        stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        async with self._database.write_lock():
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                for key, record in records.items():
                    if _is_empty(record):
                        connection.execute("DELETE FROM fsm_states WHERE key = ?", (key,))
                        continue
                    state, data = record
                    connection.execute(
                        "INSERT INTO fsm_states (key, state, data, updated_at) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                        "state = excluded.state, data = excluded.data, "
                        "updated_at = excluded.updated_at",
                        (key, state, json.dumps(data, ensure_ascii=False), stamp),
                    )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class CoreFsmStore:
    """PostgreSQL (or any other server database): Core statements, no ORM objects."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def load(self, key: str) -> Record:
        async with self._database.unit_of_work() as uow:
            stored = await uow.fsm.get(key=key)
            return (stored.state, dict(stored.data)) if stored else (None, {})

    async def save(self, records: Mapping[str, Record], *, now: datetime) -> None:
        async with self._database.engine.begin() as connection:
            for key, record in records.items():
                if _is_empty(record):
                    await connection.execute(delete(FsmRecord).where(FsmRecord.key == key))  # type: ignore[arg-type]
                    continue
                state, data = record
                statement = pg_insert(FsmRecord).values(
                    key=key, state=state, data=data, updated_at=now
                )
                await connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=["key"],
                        set_={
                            "state": statement.excluded.state,
                            "data": statement.excluded.data,
                            "updated_at": statement.excluded.updated_at,
                        },
                    )
                )

    async def close(self) -> None:
        return None


def fsm_store_for(database: Database) -> FsmStore:
    if database.dialect == "sqlite":
        return SqliteFsmStore(database)
    return CoreFsmStore(database)
