"""SQLite statements run synchronously on the event loop, under the process's write lock.

What it does: on a SQLite file every statement of the bot (the units of work's ORM sessions,
the short Core transactions of the inbox, the delivery worker and the conversation state)
runs through one synchronous engine on the standard `sqlite3` module, called straight from
the event loop. `Database` holds its write lock around every transaction that may write
(reads never wait in WAL mode), so this process never has two SQLite writers. In WAL mode
with `synchronous=NORMAL` a few indexed statements and a commit take microseconds, far less
than the thread round trips the async driver (aiosqlite) needs for every statement. An
in-memory database (`sqlite+aiosqlite:///:memory:`) does not use this path: each `sqlite3`
connection would open its own empty database, so it stays on the async engine, whose single
shared connection holds the one database.

Its price: the loop is held for the duration of each statement; nothing else of the process
runs meanwhile (docs/benchmarks.md has the numbers: a form step, an inbox round and an
outbox round take well under a millisecond here). A statement slower than
`SLOW_STATEMENT_SECONDS` (50 ms) is logged as a warning with its SQL, so that a query that
grew expensive shows up before it is felt.

The private SQLAlchemy hook it relies on: ORM sessions stay `AsyncSession`s (the services
await them) built with `sync_session_class` set to a factory that returns a synchronous
`Session` bound to this engine, so "awaiting" a statement runs it at once through `sqlite3`.
SQLAlchemy's asyncio results then call `await cursor._async_soft_close()` on the cursor,
a method only its async drivers' cursors have; `_LoopCursor` provides it.
`tests/storage/test_embedded_sqlite.py` fails if either hook changes in a SQLAlchemy upgrade.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import ReadingSession

T = TypeVar("T")

BUSY_TIMEOUT_MS = 250
SLOW_STATEMENT_SECONDS = 0.05

log = logging.getLogger(__name__)


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Short: the write lock keeps this process's writers apart; this bounds the wait should
    # another process (a migration, a backup) hold the file.
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


class _LoopCursor(sqlite3.Cursor):
    """Times every statement (see `_LoopConnection.slow_after`): timing here costs a fraction
    of a microsecond, where a SQLAlchemy cursor event on the engine made a form step 0.8 ms
    slower."""

    connection: _LoopConnection

    async def _async_soft_close(self) -> None:
        """Called by SQLAlchemy's asyncio results on statement cursors (they expect the async
        driver's cursor); a standard-library cursor has nothing to release there."""

    def execute(self, sql: str, parameters: Any = (), /) -> _LoopCursor:
        timer = self.connection.timer
        begun = timer()
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection.took(timer() - begun, sql)

    def executemany(self, sql: str, parameters: Any, /) -> _LoopCursor:
        timer = self.connection.timer
        begun = timer()
        try:
            return super().executemany(sql, parameters)
        finally:
            self.connection.took(timer() - begun, sql)


class _LoopConnection(sqlite3.Connection):
    timer: Callable[[], float] = time.perf_counter
    slow_after: float = SLOW_STATEMENT_SECONDS

    def cursor(self, factory: Any = _LoopCursor) -> Any:
        return super().cursor(factory)

    def took(self, elapsed: float, sql: str) -> None:
        """Warn, with the statement, about one slower than `slow_after` seconds: on this path
        it held the event loop that long."""
        if elapsed > self.slow_after:
            log.warning(
                "slow SQLite statement held the event loop for %.0f ms: %s",
                elapsed * 1000,
                " ".join(sql.split()),
            )


def _on_a_file(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return False
    return parsed.database != ":memory:" and parsed.query.get("mode") != "memory"


class EmbeddedSqlite:
    """The synchronous engine on a SQLite file, and the two ways in: ORM sessions and short
    Core transactions. `open` gives None for other databases and in-memory SQLite."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(
        cls, url: str, *, timer: Callable[[], float] = time.perf_counter
    ) -> EmbeddedSqlite | None:
        if not _on_a_file(url):
            return None
        engine = create_sync_engine(
            make_url(url).set(drivername="sqlite"), connect_args={"factory": _LoopConnection}
        )
        event.listen(engine, "connect", _pragmas)

        @event.listens_for(engine, "connect")
        def use_timer(dbapi_connection: _LoopConnection, _record: Any) -> None:
            dbapi_connection.timer = timer

        return cls(engine)

    def session_factory(self, *, reading: bool = False) -> async_sessionmaker[AsyncSession]:
        """Async sessions whose statements run on the loop through this engine (the
        `sync_session_class` hook described above); `reading`: sessions that write nothing
        (`Database.reading`)."""
        session_class = ReadingSession if reading else Session

        def on_this_engine(**options: Any) -> Session:
            options.pop("bind", None)
            options.pop("binds", None)
            return session_class(bind=self.engine, **options)

        return async_sessionmaker(
            class_=AsyncSession,
            sync_session_class=cast(type[Session], on_this_engine),
            expire_on_commit=False,
            autoflush=not reading,
        )

    def run(self, work: Callable[[Connection], T]) -> T:
        """`work` in one transaction, synchronously (the caller holds the write lock)."""
        with self.engine.begin() as connection:
            return work(connection)

    def dispose(self) -> None:
        self.engine.dispose()
