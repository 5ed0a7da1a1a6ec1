"""Running report queries without holding up the bot.

The desk's own units of work on SQLite run on the event loop (short transactions); a report
reads far more, so here SQLite gets its own read-only connection used in a worker thread,
and PostgreSQL is read through the async driver (`run_sync`: the loop is free while the server
answers and between batches of rows). Either way the caller gets one read transaction.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

T = TypeVar("T")

_gc_guard = threading.Lock()
_gc_pausers = 0
_gc_restore = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report is built.

    A report creates tens of thousands of short-lived objects (freed by reference counting,
    without cycles); each full collection they trigger scans every live object of the process
    while holding the GIL, which stopped the event loop for up to a second (measured with
    the benchmark's heartbeat). Overlapping reports keep it paused until the last one ends.
    """
    global _gc_pausers, _gc_restore
    with _gc_guard:
        if _gc_pausers == 0:
            _gc_restore = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_guard:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_restore:
                gc.enable()


def _read_only_engine(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine opening the same SQLite file read-only; None for other databases
    and in-memory SQLite."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database).expanduser().resolve()
    uri = f"file:{quote(str(path))}?mode=ro"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=5000")
        return connection

    return create_engine("sqlite://", creator=connect, poolclass=NullPool)


class ReportReader:
    """Runs a function of a synchronous `Connection` in one read transaction, off the loop."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._read_only = _read_only_engine(engine)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    async def run(self, work: Callable[[Connection], T]) -> T:
        if self._read_only is not None:
            return await asyncio.to_thread(self._run_read_only, work)
        async with self._engine.connect() as connection:
            return await connection.run_sync(work)

    def _run_read_only(self, work: Callable[[Connection], T]) -> T:
        assert self._read_only is not None
        with self._read_only.connect() as connection, connection.begin():
            return work(connection)

    def close(self) -> None:
        if self._read_only is not None:
            self._read_only.dispose()
