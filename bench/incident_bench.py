"""Incident detection for one new ticket, with 100,000 tickets in the trailing 4 weeks and
2,000 of them (all of one category, the worst case) in the 60-minute window.

Times `IncidentService.observe` end to end on a SQLite file: reading the ticket, the window's
signatures, clustering, the open incidents, the four baseline counts (when the cluster is big
enough) and writing the observation; plus the pure part alone (`place` + `judge`). Also prints
the precision and recall of the similarity measures on the labelled pairs.

Delivery at scale (`--parts delivery`): the real delivery worker (`DeliveryWorker`, default
`Pacer`, the recording fake Bot API) sends 10,000 `incident_update` rows to 10,000 customer
chats with an agent's reply queued right after them and two more replies queued while the
broadcast runs. The clock is injected and advanced by what the worker asks to wait
(`_seconds_to_next`, as `run_forever` does), so the rate and the replies' waits are those of
the pacing, and the worker's own CPU and wall time are measured beside it. A second run
without the overall limit shows how fast the worker alone could send.

    python -m bench.incident_bench [--tickets 100000] [--window 2000] [--runs 300]
        [--parts detection,fanout,delivery] [--deliver 10000] [--capacity 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, insert

from bench.common import machine
from bot.domain.clock import FrozenClock
from bot.domain.incidents import MEASURES, Observation, SpikePolicy, judge, place
from bot.locales.catalog import Catalogs
from bot.services.incidents import IncidentConfig, IncidentService
from bot.services.incidents.signatures import signature
from bot.services.outbox import Buttons
from storage.db import create_engine
from storage.incident_models import IncidentObservation
from storage.migrate import upgrade_database
from storage.models import Customer, Ticket
from storage.unit_of_work import Database
from tests.incidents.labelled import best, labelled_pairs, quality, scored

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SEED_IDS = 10**8  # observations of tickets that are not in the tickets table
PHRASES = [
    "card payment declined at checkout",
    "courier did not come today",
    "tracking has not updated for a week",
    "refund for my return has not arrived",
    "the app crashes when I open the cart",
    "promo code is not accepted",
    "parcel arrived damaged",
    "charged twice for one order",
    "cannot log in wrong password",
    "wrong size delivered",
]
CATEGORIES = ["payment", "delivery", "website", "product_quality", "service", "other"]


class _NoButtons:
    def alert(self, alert_id: int, locale: str) -> Buttons:
        return []


def _text(rng: random.Random) -> str:
    words = rng.choice(PHRASES).split()
    rng.shuffle(words)
    return " ".join(words[: rng.randint(3, len(words))]) + f" order {rng.randint(1, 99999)}"


async def _seed(database: Database, tickets: int, window: int, rng: random.Random) -> None:
    rows = []
    span = timedelta(days=28) - timedelta(hours=1)
    for i in range(tickets - window):
        at = START - timedelta(hours=1) - span * rng.random()
        rows.append((SEED_IDS + i, rng.choice(CATEGORIES), at))
    for i in range(window):
        at = START - timedelta(minutes=59) * rng.random()
        rows.append((SEED_IDS + tickets - window + i, "payment", at))
    observations = [
        {
            "ticket_id": tid,
            "category": category,
            "created_at": at,
            "signature": signature(_text(rng)),
            "cluster_id": tid,
        }
        for tid, category, at in rows
    ]
    await database.run_short(lambda c: c.execute(insert(IncidentObservation), observations))
    async with database.unit_of_work() as uow:
        uow.session.add(
            Customer(telegram_id=1, first_name="Bench", created_at=START, updated_at=START)
        )


async def _observe_times(runs: int, tickets: int, window: int) -> dict[str, list[float]]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        database = Database(create_engine(url))
        await upgrade_database(database.engine)
        await _seed(database, tickets, window, rng)
        clock = FrozenClock(START)
        service = IncidentService(
            database,
            clock,
            Catalogs(),
            IncidentConfig(staff_chat_id=-100),
            None,  # type: ignore[arg-type]  # resolution is not timed here
            _NoButtons(),
        )

        def read(connection: Connection) -> list[Observation]:
            rows = connection.execute(
                IncidentObservation.__table__.select().where(  # type: ignore[attr-defined]
                    IncidentObservation.category == "payment",
                    IncidentObservation.created_at >= START - timedelta(hours=1),
                )
            )
            return [
                Observation(r.ticket_id, "payment", r.created_at, r.signature, r.cluster_id)
                for r in rows
            ]

        window_rows = await database.run_short(read)
        pure: list[float] = []
        full: list[float] = []
        pure_cpu: list[float] = []
        full_cpu: list[float] = []
        policy = SpikePolicy()
        for i in range(runs):
            text = _text(rng)
            started, cpu = time.perf_counter(), time.process_time()
            placed = place(
                ticket_id=10**9 + i, at=START, signature=signature(text), window=window_rows
            )
            judge(placed.size, [5, 6, 4, 7], policy)
            pure.append(time.perf_counter() - started)
            pure_cpu.append(time.process_time() - cpu)
            async with database.unit_of_work() as uow:
                ticket = await uow.tickets.add(
                    ticket=Ticket(
                        number=f"B-{i:06d}",
                        customer_id=1,
                        category="payment",
                        description=text,
                        created_at=clock.now(),
                        updated_at=clock.now(),
                    )
                )
                ticket_id = ticket.id
            assert ticket_id is not None
            started, cpu = time.perf_counter(), time.process_time()
            await service.observe(ticket_id)
            full.append(time.perf_counter() - started)
            full_cpu.append(time.process_time() - cpu)
            # New tickets arrive at the window's rate (2,000 an hour), not in a burst.
            clock.advance(timedelta(hours=1) / window)
        await database.dispose()
        return {
            "place+judge (pure), wall": pure,
            "place+judge (pure), CPU": pure_cpu,
            "observe (SQLite, end to end), wall": full,
            "observe (SQLite, end to end), CPU": full_cpu,
        }


async def _fanout_time(customers: int) -> tuple[float, int]:
    """`/update` to an incident with `customers` linked customers: the time to write one
    `incident_update` outbox row each (one transaction)."""
    from bot.services.desk import AgentRef
    from storage.incident_models import Incident, IncidentTicket

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'fanout.db'}"
        database = Database(create_engine(url))
        await upgrade_database(database.engine)

        def seed(connection: Connection) -> None:
            connection.execute(
                insert(Customer),
                [
                    {
                        "id": i,
                        "telegram_id": 10_000 + i,
                        "first_name": f"C{i}",
                        "locale": "ru" if i % 2 else "en",
                        "is_banned": False,
                        "is_unreachable": False,
                        "created_at": START,
                        "updated_at": START,
                    }
                    for i in range(1, customers + 1)
                ],
            )
            connection.execute(
                insert(Ticket),
                [
                    {
                        "id": i,
                        "number": f"C-{i:06d}",
                        "customer_id": i,
                        "kind": "complaint",
                        "channel": "telegram",
                        "category": "payment",
                        "description": "card declined",
                        "fields": {},
                        "status": "new",
                        "priority": "normal",
                        "paused_seconds": 0,
                        "created_at": START,
                        "updated_at": START,
                    }
                    for i in range(1, customers + 1)
                ],
            )
            connection.execute(
                insert(Incident),
                [
                    {
                        "id": 1,
                        "number": "I-000001",
                        "title": "Card payments",
                        "public_text": "",
                        "status": "investigating",
                        "signature": "",
                        "declared_at": START,
                        "updated_at": START,
                    }
                ],
            )
            connection.execute(
                insert(IncidentTicket),
                [
                    {"ticket_id": i, "incident_id": 1, "how": "auto", "linked_at": START}
                    for i in range(1, customers + 1)
                ],
            )

        await database.run_short(seed)
        incident_id = 1
        assert incident_id is not None
        service = IncidentService(
            database,
            FrozenClock(START),
            Catalogs(),
            IncidentConfig(staff_chat_id=-100),
            None,  # type: ignore[arg-type]
            _NoButtons(),
        )
        started = time.perf_counter()
        sent = await service.post_update(incident_id, "The bank is fixing it", AgentRef(1, "A"))
        elapsed = time.perf_counter() - started
        await database.dispose()
        return elapsed, sent


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


async def _deliver(customers: int, *, overall_limit: int | None) -> DeliveryRun:
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


def _print_delivery(label: str, run: DeliveryRun) -> None:
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


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--fanout", type=int, default=10_000)
    parser.add_argument("--parts", default="detection,fanout,delivery")
    parser.add_argument("--deliver", type=int, default=10_000)
    parser.add_argument("--capacity", type=int, default=3_000)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(machine())
    if "delivery" in parts:
        print(f"load average: {os.getloadavg()[0]:.1f}")
        paced = asyncio.run(_deliver(args.deliver, overall_limit=None))
        _print_delivery("paced (30 a second overall)", paced)
        free = asyncio.run(_deliver(args.capacity, overall_limit=0))
        _print_delivery("no overall limit (the worker alone)", free)
    if "detection" not in parts:
        if "fanout" in parts:
            elapsed, sent = asyncio.run(_fanout_time(args.fanout))
            print(f"/update to {sent} linked customers: {elapsed * 1000:.0f} ms to queue")
        return
    pairs = labelled_pairs()
    print(f"labelled pairs: {len(pairs)} ({sum(p.same for p in pairs)} same incident)")
    for name, scorer in MEASURES.items():
        scores = scored(pairs, scorer)
        top = best(scores)
        print(
            f"  {name}: best F1 {top.f1:.3f} at {top.threshold:.0f} "
            f"(precision {top.precision:.3f}, recall {top.recall:.3f})"
        )
        for threshold in (20, 22, 25, 30, 35, 50, 60):
            q = quality(scores, threshold)
            print(f"    at {threshold}: precision {q.precision:.3f} recall {q.recall:.3f}")
    timings = asyncio.run(_observe_times(args.runs, args.tickets, args.window))
    print(f"load average before timing: {os.getloadavg()[0]:.1f}")
    for label, values in timings.items():
        print(
            f"{label}: median {statistics.median(values) * 1000:.2f} ms, "
            f"p99 {_p(values, 0.99):.2f} ms, max {max(values) * 1000:.2f} ms ({len(values)} runs)"
        )
    elapsed, sent = asyncio.run(_fanout_time(args.fanout))
    print(f"/update to {sent} linked customers: {elapsed * 1000:.0f} ms to queue (SQLite)")


if __name__ == "__main__":
    main()
