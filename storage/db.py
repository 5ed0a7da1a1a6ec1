"""Engine and session factory; SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder that will hold the SQLite file, so a fresh checkout just runs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return
    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    ensure_sqlite_folder(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if not is_sqlite(url):
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


DIRECT_BUSY_TIMEOUT_MS = 250


def _direct_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={DIRECT_BUSY_TIMEOUT_MS}")
    cursor.close()


class _DirectCursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """Called by SQLAlchemy's asyncio results on statement cursors (they expect the async
        driver's cursor); a standard-library cursor has nothing to release there."""


class _DirectConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _DirectCursor) -> Any:
        return super().cursor(factory)


def create_direct_sqlite_engine(url: str) -> Engine | None:
    """A synchronous engine on the same SQLite file: units of work and short Core
    transactions run through it on the event loop (see `Database`); None for other
    databases and for in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    engine = create_sync_engine(
        parsed.set(drivername="sqlite"), connect_args={"factory": _DirectConnection}
    )
    event.listen(engine, "connect", _direct_pragmas)
    return engine


def create_session_factory(engine: AsyncEngine, *, direct: Engine | None = None) -> SessionFactory:
    """Async sessions; with `direct` (a synchronous SQLite engine) their ORM work runs on
    the event loop through it instead of crossing into the async driver's thread for every
    statement (see `Database`)."""
    if direct is None:
        return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    def on_direct_engine(**options: Any) -> Session:
        options.pop("bind", None)
        options.pop("binds", None)
        return Session(bind=direct, **options)

    return async_sessionmaker(
        class_=AsyncSession,
        sync_session_class=cast(type[Session], on_direct_engine),
        expire_on_commit=False,
    )
