"""Reports computed in a separate process, so the bot's event loop never waits for the GIL.

A report is seconds of Python work; in a worker thread it holds the GIL and the bot's loop
wakes late (measured: up to a quarter of a second). Here one spawned worker process opens its
own read-only connection from the database URL (SQLite file: `mode=ro`; PostgreSQL: a
read-only transaction through the async driver), builds the report with the same code as the
in-process path and sends back the plain dataclasses. Charts are rendered there too.

The pool is created on first use and shared by every `Analytics` of the process;
`shutdown_workers()` stops it (the app calls it when it closes). An in-memory SQLite database
is invisible to another process: `uses_worker()` says so and the caller stays in-process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.domain.business_calendar import BusinessCalendar
from bot.domain.sla import SlaPolicy, SlaTarget
from bot.services.analytics.metrics import Report
from bot.services.analytics.queries import Window
from bot.services.analytics.reader import ReportReader

T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def uses_worker(url: URL) -> bool:
    """False for an in-memory SQLite database, which only this process can see."""
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and url.query.get("mode") != "memory"


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return _pool


def _forget(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def in_worker(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` (a module-level function, picklable arguments) in the worker process;
    a worker that died (killed, out of memory) is replaced once."""
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        executor = _executor()
        try:
            return await loop.run_in_executor(executor, work, *args)
        except BrokenProcessPool:
            _forget(executor)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def shutdown_workers() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- in the worker

_readers: dict[str, tuple[asyncio.AbstractEventLoop, ReportReader]] = {}


def _reader(url: str) -> tuple[asyncio.AbstractEventLoop, ReportReader]:
    found = _readers.get(url)
    if found is None:
        loop = asyncio.new_event_loop()
        postgres = url.startswith("postgresql")
        # PostgreSQL: one connection kept between reports (on this process's own loop), with
        # the statements it has prepared; SQLite opens its file per report.
        pooling: dict[str, Any] = (
            {"pool_size": 1, "max_overflow": 0, "pool_pre_ping": True, "pool_recycle": 600}
            if postgres
            else {"poolclass": NullPool}
        )
        engine = create_async_engine(
            url,
            execution_options={"postgresql_readonly": True} if postgres else {},
            **pooling,
        )
        found = _readers[url] = (loop, ReportReader(engine))
    return found


PolicyParts = tuple[dict[str, SlaTarget], bool, BusinessCalendar, float]


def policy_parts(policy: SlaPolicy) -> PolicyParts:
    """The policy as picklable parts (its targets are a read-only mapping proxy)."""
    return dict(policy.targets), policy.business_time_only, policy.calendar, policy.warn_fraction


def build_report(
    url: str,
    parts: PolicyParts,
    zone: ZoneInfo,
    window: Window,
    now: datetime,
    first: date,
    last: date,
    breakdown: str | None,
) -> Report:
    """Runs in the worker process: the report of ``window`` read from the database at ``url``."""
    from bot.services.analytics.service import compute_report

    loop, reader = _reader(url)
    policy = SlaPolicy(*parts)
    return loop.run_until_complete(
        compute_report(reader, policy, zone, window, now, first, last, breakdown)
    )
