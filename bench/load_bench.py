"""Load: the real bot process over HTTP against a local Bot API (long polling).

Customers with open tickets write while agents reply in the tickets' topics, at a steady rate.
Measured from outside: handled updates per second, time from an update being available to
the bot's answer (a customer's message copied into the topic; an agent's reply sent to the
customer), the outbox depth over time, the process's memory (RSS); inside the process
(`bench/load_bot.py`) the event loop's lag.

    python -m bench.load_bench --customers 300 --rate 60 --seconds 30 [--postgres URL]

The bot runs as a one-instance desk is set up (`SINGLE_INSTANCE=true`: its caches of
customers and conversation state on); `--several-instances` measures one of several
instances sharing the database (caches off: each update reads both from the database).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench.common import Latencies, host_speed_ms, machine
from bot.domain.clock import SystemClock
from bot.domain.sla import SlaPolicy
from bot.services.customers import CustomerService, TelegramProfile
from bot.services.intake import ComplaintForm
from bot.services.tickets import TicketService
from sandbox.emulator.local import LocalBotApi
from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.models import Ticket
from storage.unit_of_work import Database
from tests.postgres import temporary_database
from tests.receipt.traffic import AGENTS, ROOT, STAFF, TOKEN, bot_env

FIRST_CUSTOMER = 100_001
PROBE_ROWS = 1_000  # the host's speed during the traffic: about 2 ms of work a second

# This process's own collections over 50 ms (when, on `time.monotonic`; how long, ms): the
# local Bot API runs here, so such a pause delays every answer it gives (see
# `collector_paused`).
BENCH_GC_PAUSES: list[tuple[float, float]] = []
_gc_started = 0.0


def _time_collections(phase: str, info: dict[str, int]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.monotonic()
    elif (time.monotonic() - _gc_started) > 0.05:
        BENCH_GC_PAUSES.append((_gc_started, 1000 * (time.monotonic() - _gc_started)))


@contextmanager
def collector_paused() -> Iterator[None]:
    """This process's garbage collector off while the traffic runs. The local Bot API answers
    from here: one full collection of its records (about 230 ms, 35 s into the traffic) had
    delayed every answer in flight and shown up as the bot's slowest 5 s."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


@dataclass
class Run:
    api: LocalBotApi
    customers: int
    sent_customer: dict[tuple[int, int], float] = field(default_factory=dict)
    sent_reply: dict[str, tuple[int, float]] = field(default_factory=dict)
    topics: dict[int, int] = field(default_factory=dict)  # customer chat -> thread seen
    _copies_seen: int = 0

    def _learn_topics(self) -> None:
        copies = self.api.copies
        for copy in copies[self._copies_seen :]:
            if copy.chat_id == STAFF and copy.thread_id is not None:
                self.topics[copy.from_chat_id] = copy.thread_id
        self._copies_seen = len(copies)

    async def traffic(self, rate: float, seconds: float, reply_share: float) -> None:
        rng = random.Random(7)
        start = time.monotonic()
        total = int(rate * seconds)
        for n in range(total):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._learn_topics()
            if self.topics and rng.random() < reply_share:
                chat = rng.choice(list(self.topics))
                marker = f"reply-{n}"
                await self.api.agent_writes(AGENTS[n % 2], self.topics[chat], marker)
                self.sent_reply[marker] = (chat, time.monotonic())
            else:
                chat = FIRST_CUSTOMER + rng.randrange(self.customers)
                pushed = time.monotonic()
                message_id = await self.api.customer_writes(chat, f"message {n}")
                self.sent_customer[(chat, message_id)] = pushed

    async def first_messages(self, rate: float) -> None:
        """One message from every customer, at `rate`: each ticket gets its topic and card."""
        start = time.monotonic()
        for index in range(self.customers):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            chat = FIRST_CUSTOMER + index
            pushed = time.monotonic()
            self.sent_customer[(chat, await self.api.customer_writes(chat, "hello"))] = pushed

    def latencies(self) -> tuple[list[float], int]:
        """Milliseconds from available to answered, for every answered update; unanswered."""
        timed, missing = self.timed_latencies()
        return [latency for _, latency in timed], missing

    def p99_every_5s(self, started: float) -> list[float]:
        """The p99 of the updates made available in each 5 s of the traffic: where the slow
        answers are."""
        windows: dict[int, list[float]] = {}
        for pushed, latency in self.timed_latencies()[0]:
            if pushed >= started:
                windows.setdefault(int((pushed - started) // 5), []).append(latency)
        return [round(Latencies(windows[w]).p99, 1) for w in sorted(windows)]

    def timed_latencies(self) -> tuple[list[tuple[float, float]], int]:
        """(when made available, milliseconds to the answer) of every answered update; how
        many were not answered."""
        first_copy: dict[tuple[int, int], float] = {}
        for copy in self.api.copies:
            first_copy.setdefault((copy.from_chat_id, copy.message_id), copy.at)
        first_text: dict[str, float] = {}
        for sent in self.api.texts:
            marker = sent.text.rsplit("\n", 1)[-1]
            if marker.startswith("reply-"):
                first_text.setdefault(marker, sent.at)
        samples: list[tuple[float, float]] = []
        missing = 0
        for key, pushed in self.sent_customer.items():
            if key in first_copy:
                samples.append((pushed, 1000 * (first_copy[key] - pushed)))
            else:
                missing += 1
        for marker, (_chat, pushed) in self.sent_reply.items():
            if marker in first_text:
                samples.append((pushed, 1000 * (first_text[marker] - pushed)))
            else:
                missing += 1
        return samples, missing

    def last_answer(self) -> float:
        return max([c.at for c in self.api.copies] + [t.at for t in self.api.texts])


def _every_5s(samples: list[tuple[float, float]]) -> list[float]:
    """The median of each 5 s of (seconds since the traffic's start, value) samples."""
    windows: dict[int, list[float]] = {}
    for at, value in samples:
        windows.setdefault(int(at // 5), []).append(value)
    return [round(statistics.median(windows[w]), 2) for w in sorted(windows)]


async def seed(url: str, customers: int) -> None:
    database = Database(create_engine(url))
    try:
        await upgrade_database(database.engine)
        clock = SystemClock()
        service = CustomerService(database, clock, default_locale="en")
        tickets = TicketService(database, clock, SlaPolicy())
        for index in range(customers):
            customer = await service.register(
                TelegramProfile(FIRST_CUSTOMER + index, f"Load{index:05d}", None, None, "en")
            )
            assert customer.id is not None
            await tickets.open_complaint(
                customer_id=customer.id,
                form=ComplaintForm(
                    category="delivery", description="Where is my parcel?", incident_date=None
                ),
            )
    finally:
        await database.dispose()


async def seed_history(url: str, customers: int, tickets: int) -> None:
    """`tickets` closed tickets of the bench's customers (a desk that has run for a while),
    written in bulk."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as connection:
            found = await connection.execute(text("SELECT telegram_id, id FROM customers"))
            ids: dict[int, int] = {int(telegram): int(row_id) for telegram, row_id in found}
            for start in range(0, tickets, 5000):
                rows = []
                for n in range(start, min(start + 5000, tickets)):
                    at = now - timedelta(days=30, minutes=n)
                    rows.append(
                        {
                            "number": f"H{n:07d}",
                            "customer_id": ids[FIRST_CUSTOMER + n % customers],
                            "kind": "complaint",
                            "channel": "telegram",
                            "category": "delivery",
                            "description": f"Old complaint {n}",
                            "fields": {},
                            "status": "closed",
                            "priority": "normal",
                            "paused_seconds": 0,
                            "created_at": at,
                            "updated_at": at + timedelta(hours=5),
                            "first_response_at": at + timedelta(minutes=20),
                            "resolved_at": at + timedelta(hours=4),
                            "closed_at": at + timedelta(hours=5),
                        }
                    )
                await connection.execute(insert(table), rows)
    finally:
        await engine.dispose()


@asynccontextmanager
async def database_url(postgres: str | None, folder: Path) -> AsyncIterator[str]:
    if postgres is None:
        yield f"sqlite+aiosqlite:///{folder / 'load.db'}"
        return
    async with temporary_database(postgres, prefix="load_bench") as url:
        yield url


async def outbox_kinds(url: str) -> dict[str, int]:
    """All rows the outbox got, by kind and by staff group / private chat."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                text(
                    "SELECT kind, CASE WHEN chat_id > 0 THEN 'private' ELSE 'group' END, "
                    "count(*) FROM outbox GROUP BY 1, 2"
                )
            )
            return {f"{kind} {where}": int(count) for kind, where, count in result}
    finally:
        await engine.dispose()


async def drained(run: Run, url: str) -> None:
    """Until every update of `run` is answered and the outbox is empty."""
    while True:
        if not run.latencies()[1] and not await outbox_depth(url):
            return
        await asyncio.sleep(0.2)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def outbox_depth(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def bench(args: argparse.Namespace) -> dict[str, object]:
    api = LocalBotApi(token=TOKEN, staff_chat_id=STAFF)
    for index in range(args.customers):
        api.add_user(FIRST_CUSTOMER + index, f"Load{index:05d}")
    for agent in AGENTS:
        api.add_user(agent, f"Agent{agent}")
    port = await api.serve()
    with tempfile.TemporaryDirectory() as folder:
        async with database_url(args.postgres, Path(folder)) as url:
            await seed(url, args.customers)
            if args.history:
                await seed_history(url, args.customers, args.history)
            lag_file = Path(folder) / "lag.json"
            extra = {
                "BENCH_LAG_FILE": str(lag_file),
                "SINGLE_INSTANCE": "false" if args.several_instances else "true",
            }
            if args.profile:
                extra["BENCH_PROFILE"] = args.profile
            env = bot_env(url, port, **extra)
            log = (Path(folder) / "bot.log").open("w")
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.load_bot", cwd=ROOT, env=env, stderr=log, stdout=log
            )
            run = Run(api, args.customers)
            depth: list[tuple[float, int]] = []
            rss: list[float] = []
            try:
                while "started" not in (Path(folder) / "bot.log").read_text():
                    if process.returncode is not None:
                        raise SystemExit((Path(folder) / "bot.log").read_text())
                    await asyncio.sleep(0.2)
                rss_up = rss_mb(process.pid)  # built, migrated, started: before any traffic
                warm_up = 0.0
                if args.warm_up:
                    # Customers with open tickets who wrote before: their topics exist (a new
                    # ticket's topic and card are measured here, apart from the traffic).
                    first = Run(api, args.customers)
                    began = time.monotonic()
                    await first.first_messages(args.rate)
                    await drained(first, url)
                    warm_up = time.monotonic() - began
                host_before = host_speed_ms()
                probe_before = host_speed_ms(rows=PROBE_ROWS)
                probes: list[tuple[float, float]] = []
                with collector_paused():
                    started = time.monotonic()
                    cpu_start = cpu_seconds(process.pid)
                    load_start = os.getloadavg()[0]
                    traffic = asyncio.create_task(
                        run.traffic(args.rate, args.seconds, args.replies)
                    )
                    while not traffic.done() or run.latencies()[1]:
                        await asyncio.sleep(1.0)
                        depth.append((time.monotonic() - started, await outbox_depth(url)))
                        rss.append(rss_mb(process.pid))
                        probe = host_speed_ms(repeats=1, rows=PROBE_ROWS) / probe_before
                        probes.append((time.monotonic() - started, probe))
                        if time.monotonic() - started > args.seconds + 120:
                            break
                    await traffic
                cpu_traffic = cpu_seconds(process.pid) - cpu_start
                host_after = host_speed_ms()
                load_end = os.getloadavg()[0]
                rss_end = rss_mb(process.pid)
                kinds = await outbox_kinds(url)
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 60)
            finally:
                if process.returncode is None:
                    process.kill()
                log.close()
                await api.close()
                if args.log:
                    shutil.copy(Path(folder) / "bot.log", args.log)
            samples, missing = run.latencies()
            lag = json.loads(lag_file.read_text()) if lag_file.exists() else {}
    latencies = Latencies(samples)
    updates = len(run.sent_customer) + len(run.sent_reply)
    return {
        "backend": "PostgreSQL" if args.postgres else "SQLite",
        # true: the one instance's caches on (customers, conversation state); false: off, as
        # when several instances share the database
        "single_instance": not args.several_instances,
        "customers": args.customers,
        "closed_tickets_before": args.history,
        "offered_rate": args.rate,
        "topics_made_in_s": round(warm_up, 1),
        "updates": updates,
        "unanswered": missing,
        "handled_per_second": round(updates / (run.last_answer() - started), 1),
        "p50_ms": round(latencies.p50, 1),
        "p99_ms": round(latencies.p99, 1),
        "max_ms": round(max(samples), 1),
        "p99_ms_every_5s": run.p99_every_5s(started),
        "outbox_max": max(d for _, d in depth) if depth else 0,
        "outbox_every_5s": [d for t, d in depth][::5],
        "outbox_rows": kinds,
        "rss_up_mb": round(rss_up, 1),
        # the bot process's CPU from the traffic's start until every update was answered
        "bot_cpu_ms_per_update": round(1000 * cpu_traffic / updates, 2),
        # a fixed workload's CPU ms in this process before and after the traffic: how fast
        # the host ran (bench.common.host_speed_ms)
        "host_speed_ms_before_after": [round(host_before, 1), round(host_after, 1)],
        # the same workload, smaller, once a second during the traffic, against its time
        # before: 1.0 is the host as fast as before the traffic (the median of each 5 s)
        "host_slowdown_every_5s": _every_5s(probes),
        "load_average_start_end": [round(load_start, 1), round(load_end, 1)],
        "rss_end_mb": round(rss_end, 1),
        "rss_max_mb": round(max(rss), 1) if rss else 0,
        # The loop's lag while the bot serves: from the moment it is up (it then takes its
        # first update) to its stop; the start (building the app, migrations, freezing the
        # start-up heap), when no update is taken yet, apart (bench/load_bot.py).
        "loop_lag_measured": "serving: from the bot being up to its stop",
        "loop_lag_max_ms": round(float(lag.get("max_ms", 0)), 1),
        "loop_lag_p99_ms": round(float(lag.get("p99_ms", 0)), 1),
        # (seconds since the bot process started its loop, lag in ms) of each lag over 100 ms
        "loop_stalls": lag.get("stalls_over_100ms", []),
        "loop_serving_from_s": lag.get("serving_from_s"),
        "loop_lag_start_max_ms": round(float(lag.get("start_max_ms", 0)), 1),
        "loop_start_stalls": lag.get("start_stalls_over_100ms", []),
        "gc_pauses": lag.get("gc_pauses_over_50ms", []),
        # the bench's own (the local Bot API's) collections over 50 ms during the traffic
        "bench_gc_pauses": [
            (round(at - started, 1), round(ms, 1)) for at, ms in BENCH_GC_PAUSES if at >= started
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--rate", type=float, default=60.0, help="updates offered per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--replies", type=float, default=0.3, help="share of agent replies")
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL"), help="admin URL; else SQLite"
    )
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="start the traffic while no ticket has its topic yet",
    )
    parser.add_argument(
        "--history", type=int, default=0, help="closed tickets in the database before the start"
    )
    parser.add_argument(
        "--several-instances",
        action="store_true",
        help="run the bot as one of several instances (SINGLE_INSTANCE=false: its caches off); "
        "by default it is the only one (SINGLE_INSTANCE=true), as one instance is set up",
    )
    parser.add_argument("--log", help="keep the bot process's log in this file")
    parser.add_argument("--profile", help="write a cProfile of the bot process to this file")
    args = parser.parse_args()
    if args.profile:
        args.profile = os.path.abspath(args.profile)  # the bot runs in the project's folder
    print(f"machine: {machine()}")
    gc.callbacks.append(_time_collections)
    print(json.dumps(asyncio.run(bench(args)), indent=2))


if __name__ == "__main__":
    main()
