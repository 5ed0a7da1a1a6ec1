"""The delivery worker with a backlog: how long one round takes, and when a customer's reply
queued behind it goes out.

`python -m bench.outbox_bench [backlog ...]` (default 0 1000 10000 50000). For each size, a
fresh SQLite database in a temporary folder gets that many pending broadcast rows (one per
customer chat, kind `incident_update`), 250 rows for the staff group and then one reply to a
customer. Measured: the first round (`DeliveryWorker.run_once`: the per-chat query, claiming
and sending a round of 200 over the recording fake Bot API), whether the reply was in it, and
the reading of a round (`DeliveryStore.claim_due` choosing nothing: the due rows read lane by
lane, then the chosen rows' contents) and the due-row query alone, each as the median of 20
runs. 50,000 sent rows sit in the table as history.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot

from bench.common import machine, pin_to_one_core
from bot.domain.clock import FrozenClock
from bot.locales.catalog import Catalogs
from bot.telegram.delivery import DeliveryWorker
from bot.telegram.pacing import Pacer
from storage.db import create_engine
from storage.delivery_store import _STATEMENTS, DeliveryStore, _due_ids
from storage.migrate import upgrade_database
from storage.outbox_models import OUTBOX
from storage.unit_of_work import Database
from tests.telegram_fake import FakeTelegram

STAFF = -100999
CUSTOMER = 5551


def _row(key: str, chat_id: int, kind: str, now: datetime) -> dict[str, Any]:
    return {
        "key": key,
        "chat_id": chat_id,
        "kind": kind,
        "payload": {"html": key},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def measure(backlog: int, folder: Path) -> tuple[float, bool, float, float]:
    database = Database(create_engine(f"sqlite+aiosqlite:///{folder / 'bench.db'}"))
    await upgrade_database(database.engine)
    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    now = clock.now()
    rows = [
        _row(f"b{chat}", chat, "incident_update", now) for chat in range(10**6, 10**6 + backlog)
    ]
    rows += [_row(f"g{number}", STAFF, "text", now) for number in range(250)]
    rows.append(_row("reply", CUSTOMER, "text", now))
    async with database.unit_of_work() as uow:
        for first in range(0, len(rows), 5000):
            await uow.session.exec(OUTBOX.insert(), params=rows[first : first + 5000])
    fake = FakeTelegram(clock=clock)
    worker = DeliveryWorker(
        Bot("42:TEST", session=fake),
        database,
        clock,
        Catalogs(),
        staff_chat_id=STAFF,
        staff_locale="en",
        pacer=Pacer(),
    )
    store = DeliveryStore(database)
    claims: list[float] = []
    for _ in range(20):
        start = time.perf_counter()
        await store.claim_due(
            now=now, limit=200, per_chat=20, paced=[], lease_until=now, choose=lambda rows: []
        )
        claims.append((time.perf_counter() - start) * 1000)
    queries: list[float] = []

    def due(connection: Any) -> None:
        for _ in range(20):
            start = time.perf_counter()
            _due_ids(connection, _STATEMENTS[database.dialect], now, 200, 20, [])
            queries.append((time.perf_counter() - start) * 1000)

    await database.run_short(due)
    start = time.perf_counter()
    await worker.run_once()
    round_ms = (time.perf_counter() - start) * 1000
    reply_first = fake.texts_to(CUSTOMER) == ["reply"]
    await database.dispose()
    return round_ms, reply_first, statistics.median(claims), statistics.median(queries)


def main() -> int:
    sizes = [int(arg) for arg in sys.argv[1:]] or [0, 1000, 10000, 50000]
    pinning = pin_to_one_core()
    print(f"machine: {machine()} ({pinning})")
    print(
        "| broadcast backlog | first round ms (200 sent) | reply in it | "
        "reading a round p50 ms | due-row query p50 ms |"
    )
    print("|---|---|---|---|---|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            round_ms, first, claim, query = asyncio.run(measure(size, Path(folder)))
        answer = "yes" if first else "NO"
        print(f"| {size} | {round_ms:.0f} | {answer} | {claim:.2f} | {query:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
