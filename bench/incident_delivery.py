"""Delivery at scale for mass incidents (`python -m bench.incident_bench --parts delivery`).

The real delivery worker (`DeliveryWorker`, default `Pacer`, the recording fake Bot API) sends
10,000 `incident_update` rows to 10,000 customer chats with an agent's reply queued right after
them and two more replies queued while the broadcast runs. The clock is injected and advanced
by what the worker asks to wait (`_seconds_to_next`, as `run_forever` does), so the rate and
the replies' waits are those of the pacing, and the worker's own CPU and wall time are
measured beside it. A second run without the overall limit shows how fast the worker alone
could send.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.clock import FrozenClock
from bot.locales.catalog import Catalogs
from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.unit_of_work import Database

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STAFF_CHAT = -100999
# Customer chat -> seconds into the broadcast when an agent's reply is queued (the first
# right after the broadcast's rows; the others in the middle of a second whose 30 messages
# have already gone, the worst moment).
AGENT_REPLIES = {5551: 0.0, 5552: 60.5, 5553: 200.25}


@dataclass(frozen=True, slots=True)
class DeliveryRun:
    broadcast: int
    virtual_seconds: float  # from queueing to the last broadcast message sent
    reply_waits: dict[int, float]  # customer chat -> seconds from queueing to sent
    cpu_seconds: float
    wall_seconds: float
    rounds: int


async def deliver(customers: int, *, overall_limit: int | None) -> DeliveryRun:
    """Send `customers` queued `incident_update` rows through the real delivery worker."""
    from aiogram import Bot

    from bot.services.outbox import enqueue_text
    from bot.telegram.delivery import DeliveryWorker
    from bot.telegram.pacing import Pacer
    from storage.outbox_models import OUTBOX
    from tests.telegram_fake import FakeTelegram

    with tempfile.TemporaryDirectory() as folder:
        database = Database(create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'out.db'}"))
        await upgrade_database(database.engine)
        clock = FrozenClock(START)
        rows = [
            {
                "key": f"incident-update:1:{chat}",
                "chat_id": chat,
                "kind": "incident_update",
                "payload": {"html": "The bank is fixing it"},
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": START,
                "created_at": START,
            }
            for chat in range(10**6, 10**6 + customers)
        ]
        async with database.unit_of_work() as uow:
            for start in range(0, len(rows), 5000):
                await uow.session.exec(OUTBOX.insert(), params=rows[start : start + 5000])
        fake = FakeTelegram(clock=clock)
        pacer = Pacer() if overall_limit is None else Pacer(overall_limit=overall_limit)
        worker = DeliveryWorker(
            Bot("42:TEST", session=fake),
            database,
            clock,
            Catalogs(),
            staff_chat_id=STAFF_CHAT,
            staff_locale="en",
            pacer=pacer,
        )
        queued: dict[int, datetime] = {}
        sent: dict[int, datetime] = {}
        broadcast = 0
        last_broadcast = START
        cpu = wall = 0.0
        rounds = 0
        while broadcast < customers or len(sent) < len(AGENT_REPLIES):
            for chat, after in AGENT_REPLIES.items():
                if chat not in queued and clock.now() >= START + timedelta(seconds=after):
                    async with database.unit_of_work() as uow:
                        await enqueue_text(
                            uow, key=f"reply:{chat}", chat_id=chat, html="reply", now=clock.now()
                        )
                    queued[chat] = clock.now()
            calls = len(fake.calls_of("sendMessage"))
            started, started_cpu = time.perf_counter(), time.process_time()
            await worker.run_once()
            wall += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
            rounds += 1
            for call in fake.calls_of("sendMessage")[calls:]:
                chat = int(call.params["chat_id"])
                if chat in AGENT_REPLIES:
                    sent.setdefault(chat, clock.now())
                else:
                    broadcast += 1
                    last_broadcast = clock.now()
            wake = clock.now() + timedelta(seconds=await worker._seconds_to_next())
            # Queueing a reply wakes the worker (`notify`) before its planned wake-up.
            replies = [
                START + timedelta(seconds=after)
                for chat, after in AGENT_REPLIES.items()
                if chat not in queued and clock.now() < START + timedelta(seconds=after) < wake
            ]
            clock.advance(min([wake, *replies]) - clock.now())
        await database.dispose()
        return DeliveryRun(
            broadcast,
            (last_broadcast - START).total_seconds(),
            {chat: (sent[chat] - queued[chat]).total_seconds() for chat in AGENT_REPLIES},
            cpu,
            wall,
            rounds,
        )


def print_delivery(label: str, run: DeliveryRun) -> None:
    rate = run.broadcast / run.virtual_seconds if run.virtual_seconds else float("inf")
    waits = ", ".join(
        f"queued at {AGENT_REPLIES[chat]:g} s: sent after {wait:.2f} s"
        for chat, wait in run.reply_waits.items()
    )
    print(
        f"{label}: {run.broadcast} sent in {run.virtual_seconds:.1f} s of the injected clock "
        f"({rate:.1f} a second); agent replies {waits}; worker time {run.cpu_seconds:.1f} s CPU, "
        f"{run.wall_seconds:.1f} s wall in {run.rounds} rounds "
        f"({run.broadcast / run.cpu_seconds:.0f} sends per CPU second, "
        f"{run.broadcast / run.wall_seconds:.0f} per wall second)"
    )
