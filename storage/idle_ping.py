"""Check a pooled server connection before use only when it sat idle in the pool.

SQLAlchemy's `pool_pre_ping` checks every connection at every checkout. With asyncpg that
check is three round trips (BEGIN, an empty query, ROLLBACK) in front of every transaction:
three of the four round trips of recording a sent outbox row, and about half of those of the
bot's other short transactions (measured: docs/benchmarks.md, "Round trips on PostgreSQL").

What the check is for: a connection that died while nobody used it (the server restarted, a
firewall dropped it after minutes of silence) is replaced before a transaction runs on it.
Here a connection is checked only when it comes out of the pool after more than `idle`
seconds there; one used moments ago is handed out as it is. If the server went away in those
moments, the statement on it fails with a disconnect error, as it would have failed had the
server gone away while the statement ran, and SQLAlchemy then invalidates every connection
the pool holds, so the next checkouts connect afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine

IDLE_BEFORE_PING = 2.0  # seconds in the pool after which a connection is checked on checkout
_RETURNED = "returned_at"


def _ping(dbapi_connection: Any) -> None:
    """One `SELECT 1` outside a transaction: one round trip (SQLAlchemy's own ping on asyncpg is
    three: BEGIN, the check, ROLLBACK). A failure makes the pool drop this connection and every
    one opened before it, as a failed pre-ping does, and check out a new one."""
    assert isinstance(dbapi_connection, AdaptedConnection)  # an asyncio driver's
    try:
        dbapi_connection.run_async(lambda driver: driver.execute("SELECT 1"))
    except Exception as error:
        raise InvalidatePoolError(f"pooled connection failed its check: {error!r}") from error


def ping_when_idle(
    engine: AsyncEngine,
    *,
    idle: float = IDLE_BEFORE_PING,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Install the check on `engine`'s pool (create the engine without `pool_pre_ping`)."""
    sync_engine = engine.sync_engine

    def returned(dbapi_connection: Any, record: Any) -> None:
        """A connection made or given back to the pool: it is known to work as of now."""
        record.info[_RETURNED] = clock()

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is not None and clock() - returned <= idle:
            return
        _ping(dbapi_connection)

    event.listen(sync_engine, "connect", returned)
    event.listen(sync_engine, "checkin", returned)
    event.listen(sync_engine, "checkout", checked_out)
