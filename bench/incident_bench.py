"""Incident detection for one new ticket, with 100,000 tickets in the trailing 4 weeks and
2,000 of them (all of one category, the worst case) in the 60-minute window.

Times `IncidentDetection.observe` end to end on a SQLite file (reading the ticket, topping up
the window kept in memory, clustering, the cluster's alert, the open incidents, the baseline
counts when the spike test runs, writing the observation) and counts its SQL statements; plus
the pure rule alone (`place` + `judge`), plain and with the window's matrix of masks. Two
histories: a quiet one (the window's 2,000 tickets each in a cluster of its own, the spike test
rarely runs) and a busy hour ("payment" had 2,000 an hour at this time of each past week, the
window's tickets are in one cluster per phrase, so the spike test runs for every ticket), and
the busy hour during an open incident about one of the phrases, its tickets of the 4 weeks
linked (every ticket is compared with its latest linked ones; those that match are linked
and their customer told). Also
prints the precision and recall of the similarity measures on the labelled pairs. With
`TEST_POSTGRES_URL` set, the same on a temporary PostgreSQL database (dropped afterwards).

Delivery at scale (`--parts delivery`): `bench/incident_delivery.py`.

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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, event, insert

from bench.common import machine
from bench.incident_delivery import deliver, print_delivery
from bench.incident_fanout import NoButtons, fanout_time
from bot.domain.clock import FrozenClock
from bot.domain.incidents import CLUSTER_THRESHOLD, MEASURES, Observation, SpikePolicy, judge, place
from bot.locales.catalog import Catalogs
from bot.ops.heap import freeze_startup_heap
from bot.services.incidents import IncidentConfig, IncidentContext, IncidentDetection
from bot.services.incidents.signatures import signature
from bot.services.incidents.window import Window
from storage.db import create_engine
from storage.incident_models import Incident, IncidentObservation, IncidentTicket
from storage.migrate import upgrade_database
from storage.models import Customer, Ticket
from storage.unit_of_work import Database
from tests.incidents.labelled import best, labelled_pairs, quality, scored
from tests.postgres import temporary_database

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# Observations of tickets that are not in the tickets table; below the new tickets' ids, as
# older tickets are.
SEED_IDS = -(10**8)
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
# (name, busy hour, tickets linked to an open incident)
SCENARIOS = [
    ("quiet history", False, 0),
    ("busy hour (the spike test on every ticket)", True, 0),
    ("busy hour and an open incident (its tickets linked: about 3,000)", True, 10_000),
]
CATEGORIES = ["payment", "delivery", "website", "product_quality", "service", "other"]


def _text(rng: random.Random, phrase: int | None = None) -> str:
    words = PHRASES[rng.randrange(len(PHRASES)) if phrase is None else phrase].split()
    rng.shuffle(words)
    return " ".join(words[: rng.randint(3, len(words))]) + f" order {rng.randint(1, 99999)}"


async def _seed(
    database: Database,
    tickets: int,
    window: int,
    rng: random.Random,
    *,
    busy: bool,
    linked: int = 0,
) -> None:
    """`tickets` observations in the trailing 4 weeks, `window` of them (all "payment") in the
    last hour. `busy`: "payment" had the window's rate at this hour of each past week too, and
    the window's tickets are in one cluster per phrase (as detection would have made them), so
    no cluster is improbable and the spike test runs for every new ticket. `linked`: an open
    incident about the first phrase with (up to) that many of its tickets linked."""
    rows: list[tuple[int, str, datetime, int]] = []
    if busy:
        for week in range(1, 5):
            for _ in range(2 * window):  # the window's rate for the 2 hours around this time
                at = START - week * timedelta(days=7) + timedelta(hours=2) * (rng.random() - 0.5)
                rows.append((SEED_IDS + len(rows), "payment", at, rng.randrange(len(PHRASES))))
    span = timedelta(days=28) - timedelta(hours=1)
    while len(rows) < tickets - window:
        at = START - timedelta(hours=1) - span * rng.random()
        category = rng.choice(CATEGORIES)
        rows.append((SEED_IDS + len(rows), category, at, rng.randrange(len(PHRASES))))
    history = len(rows)
    for _ in range(window):
        at = START - timedelta(minutes=59) * rng.random()
        rows.append((SEED_IDS + len(rows), "payment", at, rng.randrange(len(PHRASES))))
    first_of_phrase: dict[int, int] = {}
    observations = []
    for tid, category, at, phrase in rows:
        cluster = tid
        if busy and tid >= SEED_IDS + history:
            cluster = first_of_phrase.setdefault(phrase, tid)
        text = signature(_text(rng, phrase))
        observations.append(
            {
                "ticket_id": tid,
                "category": category,
                "created_at": at,
                "signature": text,
                "cluster_id": cluster,
            }
        )
    await database.run_short(lambda c: c.execute(insert(IncidentObservation), observations))
    async with database.unit_of_work() as uow:
        uow.session.add(
            Customer(telegram_id=1, first_name="Bench", created_at=START, updated_at=START)
        )
    if linked:
        about = [tid for tid, category, _, phrase in rows if category == "payment" and not phrase]
        await database.run_short(lambda c: _open_incident(c, about[-linked:]))


def _open_incident(connection: Connection, ticket_ids: list[int]) -> None:
    """An open "payment" incident about the first phrase, with `ticket_ids` linked."""
    connection.execute(
        insert(Incident),
        [
            {
                "id": 1,
                "number": "I-000001",
                "title": "Card payments",
                "public_text": "The bank is fixing it",
                "status": "investigating",
                "category": "payment",
                "signature": signature(PHRASES[0]),
                "declared_at": START - timedelta(hours=1),
                "updated_at": START,
            }
        ],
    )
    connection.execute(
        insert(IncidentTicket),
        [
            {"ticket_id": tid, "incident_id": 1, "how": "auto", "linked_at": START}
            for tid in ticket_ids
        ],
    )


def _timed(results: dict[str, list[float]], label: str, started: tuple[float, float]) -> None:
    wall, cpu = started
    results.setdefault(f"{label}, wall", []).append(time.perf_counter() - wall)
    results.setdefault(f"{label}, CPU", []).append(time.process_time() - cpu)


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


@asynccontextmanager
async def _bench_database(backend: str) -> AsyncIterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database (dropped afterwards) on the server
    of `TEST_POSTGRES_URL`."""
    if backend == "postgresql":
        async with temporary_database(
            os.environ["TEST_POSTGRES_URL"], prefix="incident_bench"
        ) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"


async def _observe_times(
    backend: str, runs: int, tickets: int, window: int, *, busy: bool, linked: int
) -> tuple[dict[str, list[float]], float, int]:
    """Times of the pure rule (plain and with the window's matrix) and of `observe` end to
    end; and the SQL statements per `observe`."""
    rng = random.Random(7)
    async with _bench_database(backend) as url:
        database = Database(create_engine(url))
        await upgrade_database(database.engine)
        await _seed(database, tickets, window, rng, busy=busy, linked=linked)
        clock = FrozenClock(START)
        detector = IncidentDetection(
            IncidentContext(database, clock, Catalogs(), IncidentConfig(staff_chat_id=-100)),
            NoButtons(),
        )
        freeze_startup_heap()  # as the bot does once it is up (bot/ops/heap.py)
        statements = linked_now = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        def read(connection: Connection) -> list[tuple[int, datetime, str, int]]:
            rows = connection.execute(
                IncidentObservation.__table__.select().where(  # type: ignore[attr-defined]
                    IncidentObservation.category == "payment",
                    IncidentObservation.created_at >= START - timedelta(hours=1),
                )
            )
            return [(r.ticket_id, r.created_at, r.signature, r.cluster_id) for r in rows]

        window_rows = await database.run_short(read)
        plain = [Observation(tid, "payment", at, sig, c) for tid, at, sig, c in window_rows]
        matrix = Window()
        matrix.add(window_rows, "payment")
        results: dict[str, list[float]] = {}
        policy = SpikePolicy()
        for i in range(runs):
            text = _text(rng)
            started = _now()
            placed = place(ticket_id=10**9 + i, at=START, signature=signature(text), window=plain)
            judge(placed.size, [5, 6, 4, 7], policy)
            _timed(results, "place + judge, plain rule (pure)", started)
            started = _now()
            placed = matrix.place(
                ticket_id=10**9 + i,
                at=START,
                signature=signature(text),
                threshold=CLUSTER_THRESHOLD,
            )
            judge(placed.size, [5, 6, 4, 7], policy)
            _timed(results, "place + judge, window matrix (pure)", started)
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
            for engine in database.sync_engines:
                event.listen(engine, "before_cursor_execute", count)
            started = _now()
            detection = await detector.observe(ticket_id)
            _timed(results, f"observe ({backend}, end to end)", started)
            linked_now += detection is not None and detection.linked_to is not None
            for engine in database.sync_engines:
                event.remove(engine, "before_cursor_execute", count)
            # New tickets arrive at the window's rate (2,000 an hour), not in a burst.
            clock.advance(timedelta(hours=1) / window)
        await database.dispose()
        return results, statements / runs, linked_now


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
        paced = asyncio.run(deliver(args.deliver, overall_limit=None))
        print_delivery("paced (30 a second overall)", paced)
        free = asyncio.run(deliver(args.capacity, overall_limit=0))
        print_delivery("no overall limit (the worker alone)", free)
    if "detection" not in parts:
        if "fanout" in parts:
            elapsed, sent = asyncio.run(fanout_time(args.fanout))
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
    backends = ["sqlite", "postgresql"] if os.environ.get("TEST_POSTGRES_URL") else ["sqlite"]
    for backend in backends:
        for name, busy, linked in SCENARIOS:
            timings, statements, linked_now = asyncio.run(
                _observe_times(
                    backend, args.runs, args.tickets, args.window, busy=busy, linked=linked
                )
            )
            print(
                f"{backend}, {name} - load average before timing: {os.getloadavg()[0]:.1f};",
                f"SQL statements per observe: {statements:.2f};",
                f"linked to the incident: {linked_now}",
            )
            for label, values in timings.items():
                print(
                    f"  {label}: median {statistics.median(values) * 1000:.2f} ms, "
                    f"p99 {_p(values, 0.99):.2f} ms, max {max(values) * 1000:.2f} ms "
                    f"({len(values)} runs)"
                )
    elapsed, sent = asyncio.run(fanout_time(args.fanout))
    print(f"/update to {sent} linked customers: {elapsed * 1000:.0f} ms to queue (SQLite)")


if __name__ == "__main__":
    main()
