"""`python -m bench.sweep_bench`: one full sweep over 100,000 open tickets, time and SQL statements.

The database gets 100,000 open tickets (plus 10,000 resolved ones, 1,000 customers) with
creation times spread over the last ten days and priorities mixed. Two scenarios:

* **steady state**: every notice that was due up to one minute ago has been given (marks set
  as the previous sweep would have left them), so this sweep acts only on what came due in
  the last minute: the every-minute case in production;
* **backlog**: no marks at all (e.g. the first sweep after the feature is switched on, or
  after a long outage): every step acts on a full batch (500 tickets).

Runs on SQLite and, when TEST_POSTGRES_URL is set, on a temporary PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import event, insert, text

from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.jobs.scheduler import SweepRunner, TickReport
from bot.locales.catalog import Catalogs
from bot.services.sla_sweeps import SlaSweeps
from bot.services.surveys import SurveyConfig, SurveyService
from bot.services.sweep_config import SweepConfig
from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.models import Customer, Ticket
from storage.sweep_leader import SingleInstance
from storage.unit_of_work import Database
from tests.postgres import temporary_database

OPEN_TICKETS = 100_000
RESOLVED_TICKETS = 10_000
CUSTOMERS = 1_000
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PREVIOUS = NOW - timedelta(minutes=1)
STAFF_CHAT = -1001234567890
STILL_WORKING = timedelta(hours=24)
AUTO_CLOSE = timedelta(days=7)
SURVEY_DELAY = timedelta(minutes=30)
REMINDER = timedelta(days=3)
PRIORITIES = (("urgent", 5), ("high", 15), ("normal", 60), ("low", 20))
OPEN_STATUSES = (("new", 30), ("in_progress", 50), ("waiting_customer", 10), ("reopened", 10))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


def _at(moment: datetime | None, cutoff: datetime) -> datetime | None:
    """The mark a sweep at ``cutoff`` would have left for a threshold at ``moment``."""
    return moment if moment is not None and moment <= cutoff else None


def ticket_rows(policy: SlaPolicy, *, steady: bool, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    share = 1 - policy.warn_fraction
    cutoff = PREVIOUS if steady else datetime.min.replace(tzinfo=UTC)
    for index in range(OPEN_TICKETS + RESOLVED_TICKETS):
        resolved = index >= OPEN_TICKETS
        priority = _pick(rng, PRIORITIES)
        target = policy.target_for(priority)
        created = NOW - timedelta(seconds=rng.uniform(0, 10 * 86_400))
        status = "resolved" if resolved else _pick(rng, OPEN_STATUSES)
        answered = status != "new" and rng.random() < 0.9
        first_at = created + timedelta(minutes=rng.uniform(5, 120)) if answered else None
        first_due = None if first_at else created + target.first_response
        resolution_due = created + target.resolution
        row: dict[str, Any] = {
            "number": f"C-{index + 1:06d}",
            "customer_id": index % CUSTOMERS + 1,
            "kind": "complaint",
            "channel": "telegram",
            "category": "delivery",
            "description": "",
            "fields": {},
            "status": status,
            "priority": priority,
            "topic_id": 1000 + index,
            "created_at": created,
            "updated_at": created,
            "first_response_at": first_at,
            "first_response_due": first_due,
            "resolution_due": resolution_due,
            "waiting_since": created if status == "waiting_customer" else None,
            "paused_seconds": 0,
            "first_response_warned_at": _at(
                first_due - target.first_response * share if first_due else None, cutoff
            ),
            "first_response_breached_at": _at(first_due, cutoff),
            "resolution_warned_at": _at(resolution_due - target.resolution * share, cutoff),
            "resolution_breached_at": _at(resolution_due, cutoff),
            "still_working_at": (
                PREVIOUS + timedelta(seconds=rng.uniform(0, STILL_WORKING.total_seconds()))
                if steady and created + STILL_WORKING <= PREVIOUS
                else None
            ),
        }
        if resolved:
            resolved_at = NOW - timedelta(seconds=rng.uniform(0, AUTO_CLOSE.total_seconds() + 60))
            if steady:
                resolved_at = max(resolved_at, PREVIOUS - AUTO_CLOSE + timedelta(seconds=1))
            row["resolved_at"] = resolved_at
            row["survey_sent_at"] = _at(resolved_at + SURVEY_DELAY, cutoff)
            sent = row["survey_sent_at"]
            row["survey_reminded_at"] = _at(sent + REMINDER, cutoff) if sent else None
        yield row


async def seed(database: Database, policy: SlaPolicy, *, steady: bool) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(Customer.__table__),  # type: ignore[attr-defined]
            [
                {
                    "telegram_id": 10_000 + i,
                    "first_name": f"Customer {i}",
                    "locale": "ru" if i % 2 else "en",
                    "is_banned": False,
                    "is_unreachable": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(CUSTOMERS)
            ],
        )
        batch: list[dict[str, Any]] = []
        table = Ticket.__table__  # type: ignore[attr-defined]
        for row in ticket_rows(policy, steady=steady):
            batch.append(row)
            if len(batch) == 5_000:
                await connection.execute(insert(table), batch)
                batch = []
        if batch:
            await connection.execute(insert(table), batch)
        await connection.execute(text("ANALYZE"))


@dataclass
class Measurement:
    backend: str
    scenario: str
    seconds: float
    statements: int
    report: TickReport

    @property
    def actions(self) -> str:
        sla, surveys = self.report.sla, self.report.surveys
        assert sla is not None and surveys is not None
        return (
            f"warned {sum(sla.warned.values())}, breached {sum(sla.breached.values())}, "
            f"still working {sla.still_working}, auto-closed {sla.auto_closed}, "
            f"surveys {surveys.sent}, reminders {surveys.reminded}"
        )


@contextmanager
def counting(database: Database) -> Iterator[list[int]]:
    counter = [0]

    def count(*_args: Any) -> None:
        counter[0] += 1

    for engine in database.sync_engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        for engine in database.sync_engines:
            event.remove(engine, "before_cursor_execute", count)


def build_runner(database: Database, clock: FrozenClock, policy: SlaPolicy) -> SweepRunner:
    catalogs = Catalogs()
    sweeps = SlaSweeps(
        database,
        clock,
        policy,
        catalogs,
        SweepConfig(
            staff_chat_id=STAFF_CHAT,
            staff_locale="ru",
            zone=policy.calendar.timezone,
            supervisor_ids=(42,),
            still_working_after=STILL_WORKING,
            auto_close_after=AUTO_CLOSE,
        ),
    )
    surveys = SurveyService(
        database,
        clock,
        policy,
        catalogs,
        SurveyConfig(STAFF_CHAT, "ru", delay=SURVEY_DELAY, reminder_after=REMINDER),
    )
    return SweepRunner(sweeps, surveys, SingleInstance())


async def measure(url: str, backend: str, scenario: str) -> Measurement:
    database = Database(create_engine(url))
    try:
        await upgrade_database(database.engine)
        policy = SlaPolicy()
        await seed(database, policy, steady=scenario == "steady state")
        runner = build_runner(database, FrozenClock(NOW), policy)
        async with database.engine.connect() as connection:  # open the pool's connection
            await connection.execute(text("SELECT 1"))
        with counting(database) as counter:
            started = time.perf_counter()
            report = await runner.tick()
            seconds = time.perf_counter() - started
        return Measurement(backend, scenario, seconds, counter[0], report)
    finally:
        await database.dispose()


async def run() -> list[Measurement]:
    results: list[Measurement] = []
    for scenario in ("steady state", "backlog"):
        with TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            results.append(await measure(url, "SQLite", scenario))
        postgres = os.environ.get("TEST_POSTGRES_URL")
        if postgres:
            async with temporary_database(postgres, prefix="bot_bench") as url:
                results.append(await measure(url, "PostgreSQL", scenario))
    return results


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


def main() -> None:
    print(f"Machine: {machine()}")
    print(
        f"Sweep over {OPEN_TICKETS:,} open + {RESOLVED_TICKETS:,} resolved tickets "
        "(SLA warnings and breaches, still working, auto-close, surveys, reminders)"
    )
    print()
    print("| backend | scenario | sweep time | SQL statements | actions |")
    print("|---|---|---|---|---|")
    for m in asyncio.run(run()):
        print(
            f"| {m.backend} | {m.scenario} | {m.seconds * 1000:.0f} ms | {m.statements} "
            f"| {m.actions} |"
        )


if __name__ == "__main__":
    main()
