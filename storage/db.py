"""Engine and session factory; SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.idle_ping import ping_when_idle

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


# Connections a server database's pool keeps open. A process handles up to 8 updates at once
# (`bot/telegram/inbox.py`) while the delivery worker sends to 8 chats, beside its reading
# look-ups, card refreshes and scheduled jobs (and up to four stay checked out, kept ready for
# one-statement work: `storage/autocommit.py`): every connection over the pool's size is opened
# for one transaction and closed after it (on PostgreSQL a new server process each time: when
# the pool was smaller than what ran at once, under the load bench several a second and a p50
# of seconds instead of tens of milliseconds, docs/benchmarks.md).
POOL_SIZE = 40
POOL_OVERFLOW = 10


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    ensure_sqlite_folder(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if not is_sqlite(url):
        kwargs.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        ping_when_idle(engine)  # instead of `pool_pre_ping`: see storage/idle_ping.py
    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class ReadingSession(Session):
    """The session of a reading unit of work (`Database.reading`). On a server database its
    statements run outside a transaction, so anything it flushed would be written at once,
    piecemeal: it writes nothing, on every database alike."""

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise RuntimeError("a reading unit of work writes nothing")
        super().flush(objects)


def create_reading_session_factory(
    engine: AsyncEngine, *, outside_transactions: bool
) -> SessionFactory:
    """Sessions for units of work that only read; `outside_transactions` (a server
    database): no BEGIN and COMMIT around their statements."""
    bind = (
        engine.execution_options(isolation_level="AUTOCOMMIT") if outside_transactions else engine
    )
    return async_sessionmaker(
        bind,
        class_=AsyncSession,
        sync_session_class=ReadingSession,
        expire_on_commit=False,
        autoflush=False,
    )
