"""Engine and session factory; SQLite gets WAL, foreign keys and a busy timeout; a server
database's pooled connections are checked with one round trip when taken from the pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import AdaptedConnection, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
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


def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection about to be used answers `SELECT 1`, or is replaced.

    SQLAlchemy's `pool_pre_ping` does this on asyncpg in a transaction of its own (BEGIN,
    a statement, ROLLBACK): three round trips to the server for every unit of work. One
    statement outside a transaction (the simple query protocol) is one. A connection the
    server dropped (a restart, an idle timeout) fails it: `InvalidatePoolError` makes the
    pool discard it and every connection opened before it and take a new one, as the
    pre-ping does (`tests/storage/test_pool_ping.py`)."""
    assert isinstance(dbapi_connection, AdaptedConnection)  # an asyncio driver's
    try:
        dbapi_connection.run_async(lambda driver: driver.execute("SELECT 1"))
    except Exception as error:
        raise InvalidatePoolError(str(error)) from error


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    ensure_sqlite_folder(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if not is_sqlite(url):
        kwargs.update(pool_size=10, max_overflow=20)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine.pool, "checkout", _ping)
    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
