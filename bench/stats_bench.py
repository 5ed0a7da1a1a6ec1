"""`python -m bench.stats_bench`: the supervisors' report over a large history.

Builds a history at the production rate of the issue's target (1,000,000 tickets over two
years: about 1,370 tickets a day, about 5 events each: registration, taken, waiting and
back, resolved, reopened and resolved again, closed, assignment), then measures:

* a report over the last 30 days (`Analytics.report`), median of 3 runs, while a heartbeat
  task measures how late the event loop wakes up (the loop's lag);
* the charts of that report (`render_charts`), per chart;
* an export of the most recent 100,000 tickets (CSV + XLSX) in a fresh process, its peak
  memory (RSS) and that of the same process before exporting.

``--tickets`` scales the history down: the span shrinks with it and the daily rate stays,
so the report period holds as many tickets as in the full history. Runs on SQLite and,
when TEST_POSTGRES_URL is set, on a temporary PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import machine
from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.locales.catalog import LOCALES_DIR, Catalogs
from bot.services.analytics import Analytics, Period
from bot.services.analytics.charts import render_charts
from bot.services.analytics.export import export_folder
from bot.services.analytics.text import CatalogLabel
from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.unit_of_work import Database
from tests.postgres import temporary_database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Moscow")
PER_DAY = 1_000_000 / 730
EXPORT = "--no-export" not in sys.argv  # the export takes minutes; its code may be unchanged
CUSTOMERS = 50_000
AGENTS = [2000 + i for i in range(20)]
CATEGORIES = (
    ("delivery", "delivery", 35),
    ("payment", "payments", 20),
    ("product_quality", "support", 20),
    ("service", "support", 10),
    ("website", "support", 10),
    ("other", "support", 5),
)
PRIORITIES = (("urgent", 5), ("high", 15), ("normal", 60), ("low", 20))
DECISIONS = ("refund", "replacement", "compensation", "explanation", "apology", "rejected")
CAUSES = ("late_courier", "damaged_in_transit", "double_charge", "defective", "bug", "other")
TICKET_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "kind",
    "channel",
    "category",
    "description",
    "fields",
    "status",
    "priority",
    "team",
    "assignee_id",
    "created_at",
    "updated_at",
    "first_response_at",
    "waiting_since",
    "paused_seconds",
    "resolved_at",
    "closed_at",
    "resolution_type",
    "rating",
    "rated_at",
    "survey_sent_at",
    "root_cause",
)
EVENT_COLUMNS = ("ticket_id", "at", "kind", "actor_kind", "from_status", "to_status", "data")
HOUR = timedelta(hours=1)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    return rng.choices(weighted, [row[-1] for row in weighted])[0]


def history(
    tickets: int, seed: int = 12
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(ticket row, its event rows) in id order; every timeline is cut at NOW."""
    rng = random.Random(seed)
    span = timedelta(days=tickets / PER_DAY)
    start = NOW - span
    for index in range(tickets):
        ticket_id = index + 1
        created = start + span * (index / tickets) + timedelta(seconds=rng.uniform(0, 60))
        category, team, _ = _pick(rng, CATEGORIES)
        priority = _pick(rng, PRIORITIES)[0]
        assignee = rng.choice(AGENTS) if rng.random() < 0.9 else None
        steps: list[tuple[datetime, str, str | None]] = []
        at = created + HOUR * rng.lognormvariate(0.5, 1.2)
        first_response = at
        steps.append((at, "in_progress", None))
        if rng.random() < 0.2:
            at += HOUR * rng.uniform(0.5, 4)
            steps.append((at, "waiting_customer", None))
            at += HOUR * rng.uniform(1, 20)
            steps.append((at, "in_progress", None))
        at += HOUR * rng.lognormvariate(2.5, 1.0)
        steps.append((at, "resolved", None))
        if rng.random() < 0.05:
            at += HOUR * rng.uniform(1, 48)
            steps.append((at, "reopened", "not solved"))
            at += HOUR * rng.uniform(2, 24)
            steps.append((at, "resolved", None))
        resolved_final = at
        if rng.random() < 0.8:
            at += HOUR * rng.uniform(24, 168)
            steps.append((at, "closed", None))
        kept = [step for step in steps if step[0] <= NOW]
        status, previous = "new", None
        resolved_at = closed_at = waiting_since = None
        events = [(ticket_id, created, "status", "customer", None, "new", "{}")]
        if assignee is not None:
            events.append((ticket_id, created, "assign", "system", None, None, "{}"))
        for moment, target, comment in kept:
            previous, status = status, target
            events.append((ticket_id, moment, "status", "agent", previous, target, "{}"))
            resolved_at = moment if target == "resolved" else resolved_at
            resolved_at = None if target == "reopened" else resolved_at
            closed_at = moment if target == "closed" else closed_at
            waiting_since = moment if target == "waiting_customer" else None
            del comment
        answered = first_response <= NOW
        done = resolved_at is not None and resolved_at == resolved_final
        rated = done and rng.random() < 0.4
        survey = resolved_at + timedelta(minutes=30) if done else None
        rated_at = resolved_at + HOUR * rng.uniform(1, 48) if rated and resolved_at else None
        if rated_at is not None and rated_at > NOW:
            rated_at = None
        row = (
            ticket_id,
            f"C-{ticket_id:07d}",
            index % CUSTOMERS + 1,
            "complaint",
            "telegram",
            category,
            "",
            "{}",
            status,
            priority,
            team,
            assignee,
            created,
            created,
            first_response if answered else None,
            waiting_since,
            0,
            resolved_at,
            closed_at,
            rng.choice(DECISIONS) if done else None,
            rng.choice((1, 2, 3, 4, 5, 5, 4, 5)) if rated_at else None,
            rated_at,
            survey if survey and survey <= NOW else None,
            rng.choice(CAUSES) if done and rng.random() < 0.5 else None,
        )
        yield row, events


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _customer(index: int) -> tuple[Any, ...]:
    return (index + 1, 10_000 + index, "C", "ru" if index % 3 else "en", False, False, NOW, NOW)


CUSTOMER_COLUMNS = (
    "id",
    "telegram_id",
    "first_name",
    "locale",
    "is_banned",
    "is_unreachable",
    "created_at",
    "updated_at",
)


def fill_sqlite(path: Path, tickets: int) -> int:
    """Insert the history with the standard library (fast); returns the number of events."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")

    def insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [tuple(_sqlite_value(v) for v in row) for row in rows],
        )

    insert("customers", CUSTOMER_COLUMNS, [_customer(i) for i in range(CUSTOMERS)])
    events_total = 0
    ticket_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    for row, events in history(tickets):
        ticket_rows.append(row)
        event_rows.extend(events)
        if len(ticket_rows) >= 20_000:
            insert("tickets", TICKET_COLUMNS, ticket_rows)
            insert("ticket_events", EVENT_COLUMNS, event_rows)
            events_total += len(event_rows)
            ticket_rows, event_rows = [], []
    insert("tickets", TICKET_COLUMNS, ticket_rows)
    insert("ticket_events", EVENT_COLUMNS, event_rows)
    events_total += len(event_rows)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    return events_total


async def fill_postgres(url: str, tickets: int) -> int:
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await connection.copy_records_to_table(
            "customers", records=[_customer(i) for i in range(CUSTOMERS)], columns=CUSTOMER_COLUMNS
        )
        events_total = 0
        ticket_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []

        async def flush() -> None:
            await connection.copy_records_to_table(
                "tickets", records=ticket_rows, columns=TICKET_COLUMNS
            )
            await connection.copy_records_to_table(
                "ticket_events", records=event_rows, columns=EVENT_COLUMNS
            )

        for row, events in history(tickets):
            ticket_rows.append(row)
            event_rows.extend(events)
            if len(ticket_rows) >= 20_000:
                await flush()
                events_total += len(event_rows)
                ticket_rows, event_rows = [], []
        await flush()
        events_total += len(event_rows)
        await connection.execute("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return events_total


class Heartbeat:
    """A task that wakes every 5 ms and records how late it woke: the event loop's lag."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.worst = max(self.worst, time.perf_counter() - began - self.interval)

    def __enter__(self) -> Heartbeat:
        self._task = asyncio.get_running_loop().create_task(self._beat())
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._task is not None
        self._task.cancel()


def _catalog_label() -> Any:
    catalogs = Catalogs()
    return lambda key, **params: catalogs.plain(key, "ru", **params)


async def _reports(analytics: Analytics, period: Period) -> tuple[Any, dict[str, Any]]:
    """Three reports, each while the heartbeat runs: wall time, CPU time of this process and
    the loop's worst lag."""
    times, cpu, lags = [], [], []
    report = None
    for _ in range(3):
        with Heartbeat() as heartbeat:
            began, began_cpu = time.perf_counter(), time.process_time()
            report = await analytics.report(period, "team")
            times.append(time.perf_counter() - began)
            # CPU time of this process (all threads, the heartbeat too; not the worker
            # process's): what the wall time would be on an idle machine, minus waiting.
            cpu.append(time.process_time() - began_cpu)
            await asyncio.sleep(0.01)
        lags.append(heartbeat.worst)
    return report, {
        "report_s": statistics.median(times),
        "report_runs_s": [round(t, 3) for t in times],
        "report_cpu_s": [round(t, 3) for t in cpu],
        "loop_lag_ms": round(1000 * max(lags), 1),
        "loop_lag_runs_ms": [round(1000 * lag, 1) for lag in lags],
    }


async def measure(url: str, label: str, tickets: int, events: int) -> dict[str, Any]:
    database = Database(create_engine(url))
    today = NOW.astimezone(ZONE).date()
    period = Period(today - timedelta(days=29), today)
    # The bot's way (the worker process; its first report includes starting it), then the
    # same report built in this process (a worker thread), for comparison.
    analytics = Analytics(database.engine, SlaPolicy.from_config(), ZONE, FrozenClock(NOW))
    report, worker = await _reports(analytics, period)
    worker["chart_in_worker_ms"] = round(1000 * await _chart_in_worker(analytics, report), 1)
    analytics.close()
    here = Analytics(
        database.engine, SlaPolicy.from_config(), ZONE, FrozenClock(NOW), in_process=True
    )
    _, in_process = await _reports(here, period)
    here.close()
    chart_times, chart_cpu = [], []
    for _ in range(3):
        began, began_cpu = time.perf_counter(), time.process_time()
        charts = render_charts(report, _catalog_label(), {})
        chart_times.append((time.perf_counter() - began) / len(charts))
        chart_cpu.append((time.process_time() - began_cpu) / len(charts))
    await database.dispose()
    export = _export_in_child(url) if EXPORT else {}
    return {
        "database": label,
        "tickets": tickets,
        "events": events,
        "period_tickets": report.volume.created.current,
        **worker,
        "in_process": in_process,
        "chart_ms": round(1000 * statistics.median(chart_times), 1),
        "chart_cpu_ms": round(1000 * statistics.median(chart_cpu), 1),
        **export,
    }


async def _chart_in_worker(analytics: Analytics, report: Any) -> float:
    """Median wall time per chart of the report's charts rendered in the worker process
    (sending the report there and the PNG files back included)."""
    label = CatalogLabel(LOCALES_DIR, "ru", "ru")
    times = []
    for _ in range(3):
        began = time.perf_counter()
        charts = await analytics.charts(report, label, {})
        times.append((time.perf_counter() - began) / len(charts))
    return statistics.median(times)


def _export_in_child(url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.stats_bench", "--export-child", url],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited)."""
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def export_child(url: str) -> dict[str, Any]:
    """Export the 100,000 most recent tickets; peak RSS before and after, in MB."""
    database = Database(create_engine(url))
    analytics = Analytics(database.engine, SlaPolicy.from_config(), ZONE, FrozenClock(NOW))
    today = NOW.astimezone(ZONE).date()
    days = int(100_000 / PER_DAY) + 1
    period = Period(today - timedelta(days=days - 1), today)
    before = _peak_rss_mb()
    began = time.perf_counter()
    with export_folder() as folder:
        result = await analytics.export(period, folder, for_upload=False)
        sizes = {file.name.rsplit("_", 1)[-1]: file.path.stat().st_size for file in result.files}
    elapsed = time.perf_counter() - began
    after = _peak_rss_mb()
    cpu = time.process_time()
    analytics.close()
    await database.dispose()
    return {
        "export_tickets": result.tickets,
        "export_events": result.events,
        "export_s": round(elapsed, 1),
        "export_cpu_s": round(cpu, 1),
        "rss_before_mb": round(before),
        "rss_peak_mb": round(after),
        "export_mb": {name: round(size / 2**20, 1) for name, size in sizes.items()},
    }


async def run_sqlite(tickets: int) -> dict[str, Any]:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "stats.db"
        url = f"sqlite+aiosqlite:///{path}"
        database = Database(create_engine(url))
        await upgrade_database(database.engine)
        await database.dispose()
        began = time.perf_counter()
        events = fill_sqlite(path, tickets)
        print(
            f"sqlite: {tickets} tickets, {events} events in {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        return await measure(url, "SQLite", tickets, events)


async def run_postgres(admin_url: str, tickets: int) -> dict[str, Any]:
    async with temporary_database(admin_url, prefix="stats_bench") as url:
        database = Database(create_engine(url))
        await upgrade_database(database.engine)
        await database.dispose()
        began = time.perf_counter()
        events = await fill_postgres(url, tickets)
        took = time.perf_counter() - began
        print(f"postgresql: {tickets} tickets, {events} events in {took:.0f} s", flush=True)
        return await measure(url, "PostgreSQL", tickets, events)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--export-child")
    parser.add_argument("--no-export", action="store_true", help="measure the report only")
    args = parser.parse_args()
    if args.export_child:
        print(json.dumps(await export_child(args.export_child)))
        return
    print(machine(), flush=True)
    results = []
    if args.only != "postgresql":
        results.append(await run_sqlite(args.tickets))
    admin = os.environ.get("TEST_POSTGRES_URL")
    if admin and args.only != "sqlite":
        results.append(await run_postgres(admin, args.tickets))
    for result in results:
        print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
