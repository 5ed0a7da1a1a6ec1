"""`python -m bench.stats_bench`: the supervisors' report over a large history.

Builds a history at the production rate of the issue's target (1,000,000 tickets over two
years, about 1,370 a day, 5.6 events each; see `stats_history.py`) inside the database and
keeps it between runs (a file in the temporary folder, a PostgreSQL database named
``stats_bench_v2_<tickets>``; ``--drop`` deletes them), then measures:

* a report over the last 30 days (`Analytics.report`), median of 3 runs after a first one
  (which starts the worker process), while a heartbeat task measures how late the event loop
  wakes up (the loop's lag, worst of all 4 runs);
* the charts of that report (`render_charts`), per chart;
* an export of the most recent 100,000 tickets (CSV + XLSX) in a fresh process, its peak
  memory (RSS) and that of the same process before exporting.

``--tickets`` scales the history down: the span shrinks with it and the daily rate stays,
so the report period holds as many tickets as in the full history. Runs on SQLite and,
when TEST_POSTGRES_URL is set, on PostgreSQL (``--only`` picks one; ``--prepare`` only
builds the histories).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from bench.stats_history import NOW, PER_DAY, fill_postgres, fill_sqlite
from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.locales.catalog import LOCALES_DIR
from bot.services.analytics import Analytics, Period
from bot.services.analytics.charts import render_charts
from bot.services.analytics.export import export_folder
from bot.services.analytics.text import CatalogLabel
from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.unit_of_work import Database
from tests.postgres import admin_execute

ZONE = ZoneInfo("Europe/Moscow")
EXPORT = "--no-export" not in sys.argv  # the export takes minutes; its code may be unchanged
# The history is kept between runs (about two minutes to build a million tickets); a change
# to its generator must change this name.
CACHE_NAME = "stats_bench_v2"


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


def _worker_cpu() -> float:
    """CPU seconds used so far by the report worker process(es) (Linux: /proc)."""
    from bot.services.analytics import worker

    pool = worker._pool
    total = 0.0
    for pid in list(getattr(pool, "_processes", None) or {}):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _reports(analytics: Analytics, period: Period) -> tuple[Any, dict[str, Any]]:
    """A first report (in the worker process: it includes starting the process), then three
    more, each while the heartbeat runs: wall time, CPU time of this process and the loop's
    worst lag; the figure is the median of the three."""
    times, cpu, worker_cpu, lags = [], [], [], []
    report = None
    for _ in range(4):
        with Heartbeat() as heartbeat:
            began, began_cpu, began_worker = time.perf_counter(), time.process_time(), _worker_cpu()
            report = await analytics.report(period, "team")
            times.append(time.perf_counter() - began)
            # CPU time of this process (all threads, the heartbeat too) and of the worker
            # process: what the wall time would be on an idle machine, minus waiting (for
            # PostgreSQL, the server's own work is not in it).
            cpu.append(time.process_time() - began_cpu)
            worker_cpu.append(_worker_cpu() - began_worker)
            await asyncio.sleep(0.01)
        lags.append(heartbeat.worst)
    return report, {
        "first_report_s": round(times[0], 3),
        "report_s": round(statistics.median(times[1:]), 3),
        "report_runs_s": [round(t, 3) for t in times[1:]],
        "report_cpu_s": [round(t, 3) for t in cpu[1:]],
        "worker_cpu_s": [round(t, 3) for t in worker_cpu[1:]],
        "loop_lag_ms": round(1000 * max(lags), 1),
        "loop_lag_runs_ms": [round(1000 * lag, 1) for lag in lags],
    }


async def measure(url: str, tickets: int, events: int, *, label: str) -> dict[str, Any]:
    database = Database(create_engine(url))
    today = NOW.astimezone(ZONE).date()
    period = Period(today - timedelta(days=29), today)
    # The bot's way (the worker process; its first report includes starting it), then the
    # same report built in this process (a worker thread), for comparison.
    analytics = Analytics(database.engine, SlaPolicy.from_config(), ZONE, FrozenClock(NOW))
    report, worker = await _reports(analytics, period)
    worker["chart_in_worker_ms"] = round(1000 * await _chart_in_worker(analytics, report), 1)
    await analytics.close()
    here = Analytics(
        database.engine, SlaPolicy.from_config(), ZONE, FrozenClock(NOW), in_process=True
    )
    _, in_process = await _reports(here, period)
    await here.close()
    chart_times, chart_cpu = [], []
    for _ in range(3):
        began, began_cpu = time.perf_counter(), time.process_time()
        charts = render_charts(report, CatalogLabel(LOCALES_DIR, "ru", "ru"), {})
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
    await analytics.close()
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


async def _counts(url: str) -> tuple[int, int]:
    database = Database(create_engine(url))
    try:
        async with database.engine.connect() as connection:
            tickets = (await connection.exec_driver_sql("SELECT count(*) FROM tickets")).scalar()
            events = (
                await connection.exec_driver_sql("SELECT count(*) FROM ticket_events")
            ).scalar()
    finally:
        await database.dispose()
    return int(tickets or 0), int(events or 0)


async def _migrate(url: str) -> None:
    database = Database(create_engine(url))
    await upgrade_database(database.engine)  # also adds indexes new since the cache was built
    await database.dispose()


def sqlite_cache(tickets: int) -> Path:
    return Path(tempfile.gettempdir()) / f"{CACHE_NAME}_{tickets}.db"


async def prepare_sqlite(tickets: int) -> tuple[str, int, int]:
    """The kept SQLite history of ``tickets`` (built first if missing): URL and sizes."""
    path = sqlite_cache(tickets)
    url = f"sqlite+aiosqlite:///{path}"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        await _migrate(f"sqlite+aiosqlite:///{partial}")
        began = time.perf_counter()
        fill_sqlite(partial, tickets)
        print(f"sqlite: history built in {time.perf_counter() - began:.0f} s", flush=True)
        partial.rename(path)
    await _migrate(url)
    stored, events = await _counts(url)
    print(f"sqlite: {stored} tickets, {events} events ({path})", flush=True)
    return url, stored, events


def postgres_cache(admin_url: str, tickets: int) -> tuple[str, str]:
    name = f"{CACHE_NAME}_{tickets}"
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def prepare_postgres(admin_url: str, tickets: int) -> tuple[str, int, int]:
    """The kept PostgreSQL history of ``tickets`` (built first if missing): URL and sizes."""
    name, url = postgres_cache(admin_url, tickets)
    try:
        stored, _ = await _counts(url)
    except Exception:  # no such database yet
        stored = -1
    if stored != tickets:
        await admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin_execute(admin_url, f'CREATE DATABASE "{name}"')
        await _migrate(url)
        began = time.perf_counter()
        await fill_postgres(url, tickets)
        print(f"postgresql: history built in {time.perf_counter() - began:.0f} s", flush=True)
    await _migrate(url)
    stored, events = await _counts(url)
    print(f"postgresql: {stored} tickets, {events} events (database {name})", flush=True)
    return url, stored, events


def _delete_sqlite_cache(tickets: int) -> None:
    path = sqlite_cache(tickets)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def drop_caches(admin_url: str | None, tickets: int) -> None:
    _delete_sqlite_cache(tickets)
    if admin_url:
        name, _ = postgres_cache(admin_url, tickets)
        await admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--export-child")
    parser.add_argument("--no-export", action="store_true", help="measure the report only")
    parser.add_argument("--prepare", action="store_true", help="build the histories only")
    parser.add_argument("--drop", action="store_true", help="delete the kept histories")
    args = parser.parse_args()
    admin = os.environ.get("TEST_POSTGRES_URL")
    if args.drop:
        await drop_caches(admin, args.tickets)
        return
    if args.export_child:
        print(json.dumps(await export_child(args.export_child)))
        return
    from bench.common import machine  # imports the bot: not in the export's process

    print(machine(), flush=True)
    histories = []
    if args.only != "postgresql":
        histories.append(("SQLite", await prepare_sqlite(args.tickets)))
    if admin and args.only != "sqlite":
        histories.append(("PostgreSQL", await prepare_postgres(admin, args.tickets)))
    results = [] if args.prepare else [await measure(*h, label=name) for name, h in histories]
    for result in results:
        print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
