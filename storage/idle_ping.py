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
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

IDLE_BEFORE_PING = 2.0  # seconds in the pool after which a connection is checked on checkout
_RETURNED = "returned_at"


def ping_when_idle(
    engine: AsyncEngine,
    *,
    idle: float = IDLE_BEFORE_PING,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Install the check on `engine`'s pool (create the engine without `pool_pre_ping`)."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def connected(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = clock()

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = clock()

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is not None and clock() - returned <= idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"pooled connection failed its check: {error!r}") from error

    event.listen(sync_engine, "connect", connected)
    event.listen(sync_engine, "checkin", checked_in)
    event.listen(sync_engine, "checkout", checked_out)
