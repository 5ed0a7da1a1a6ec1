"""CPU per update of the two hot paths on PostgreSQL, in process: a customer's message to
their open ticket and an agent's reply in its topic, each with the delivery it causes.

    python -m bench.hot_paths_bench [customers] [rounds] [--single-instance]
        (TEST_POSTGRES_URL or the local server)
    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \
        python -m bench.hot_paths_bench 30 1 --instructions

By default the bot runs with its caches off, as one of several instances sharing the
database; `--single-instance` runs it as the only instance (`SINGLE_INSTANCE=true`: customers
and conversation state cached in the process).

The app runs over the fake Bot API (no HTTP, no pacing), so what is measured is the bot's own
work: the dispatcher, the handler, its statements and the delivery worker's round. Each round
sends one message from every customer, then one reply to every ticket; the CPU time
(`time.process_time`) per update and the statements per update are printed per round, and the
lowest CPU of the rounds at the end (the machine's noise only ever adds). A first reply
(taking the ticket, moving it, refreshing its card) is measured apart, before the rounds.

CPU time on a shared machine varies by a third from run to run. Under callgrind with
`--instructions` the bench switches counting on only while updates are handled (after a full
collection, so a collection of what the set-up left does not fall into one of them) and prints
the instructions per update: the same to within 1% from run to run, so two versions of the
code can be compared on any machine (the database server runs outside valgrind; only the
bot's own work is counted). Callgrind leaves its last, empty dump in the working folder.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram.types import Update
from sqlalchemy import event
from sqlmodel import select

from bench.common import machine
from bot.domain.clock import FrozenClock
from bot.services.intake import ComplaintForm
from storage.models import Customer, Ticket
from tests.harness import STAFF_CHAT_ID, Desk, running_desk
from tests.postgres import temporary_database
from tests.staff.conftest import deliver
from tests.telegram_fake import TelegramUser

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
AGENT = TelegramUser(2001, "Anna", "Agent", "anna", "en")
# The clock moves on by this before each update, as it does between a desk's updates (a
# ticket's `updated_at` then changes with every message, as in the load bench).
STEP = timedelta(milliseconds=10)


async def _desk_with_tickets(desk: Desk, count: int) -> tuple[list[TelegramUser], dict[int, int]]:
    """`count` customers with a ticket each, its topic made; the topic of each customer."""
    desk.fake.set_forum(STAFF_CHAT_ID, True)
    desk.fake.set_admins(STAFF_CHAT_ID, [AGENT.id])
    users = [TelegramUser(10_000 + i, f"Customer{i}", None, None, "en") for i in range(count)]
    for user in [*users, AGENT]:
        desk.fake.add_user(user)
    for user in users:
        await desk.command(user, "start")
    async with desk.database.reading() as uow:
        customers = (await uow.session.exec(select(Customer))).all()
    for customer in customers:
        assert customer.id is not None
        await desk.app.tickets.open_complaint(
            customer_id=customer.id,
            form=ComplaintForm(category="delivery", description="bench", incident_date=None),
        )
    await deliver(desk, max_wait=timedelta(hours=5))
    async with desk.database.reading() as uow:
        tickets = (await uow.session.exec(select(Ticket))).all()
    telegram_id = {c.id: c.telegram_id for c in customers}
    topics = {telegram_id[t.customer_id]: t.topic_id or 0 for t in tickets}
    return users, topics


class Instructions:
    """Switches callgrind's counting on for the updates only; reads the count of each part
    from the dump callgrind writes for it (`callgrind.out.<pid>.<part>` in the working
    folder, removed once read)."""

    def __init__(self) -> None:
        self._pid = str(os.getpid())

    def _control(self, *options: str) -> None:
        subprocess.run(["callgrind_control", *options, self._pid], check=True, capture_output=True)

    def start(self) -> None:
        gc.collect()
        self._control("--zero")
        self._control("--instr=on")

    def stop(self) -> int:
        """Instructions counted since `start`."""
        self._control("--instr=off")
        self._control("--dump")
        (dump,) = Path.cwd().glob(f"callgrind.out.{self._pid}.*")
        try:
            for line in dump.read_text().splitlines():
                if line.startswith("totals:"):
                    return int(line.split()[1])
        finally:
            dump.unlink()
        raise RuntimeError(f"no totals in {dump}")


async def _measure(
    desk: Desk,
    users: list[TelegramUser],
    make: Callable[[TelegramUser, int], Update],
    instructions: Instructions | None = None,
) -> tuple[float, float]:
    """CPU ms (with `instructions`: millions of instructions) and statements per update,
    each update handled and its delivery round run."""
    staff = desk.app.staff
    assert staff is not None
    statements = Counter[str]()

    def count(*args: Any) -> None:
        statements["all"] += 1

    engine = desk.database.engine.sync_engine
    updates = [make(user, index) for index, user in enumerate(users)]
    event.listen(engine, "before_cursor_execute", count)
    if instructions is not None:
        instructions.start()
    started = time.process_time()
    try:
        for update in updates:
            desk.clock.advance(STEP)
            await desk.app.dispatcher.feed_update(desk.app.bot, update)
            await staff.delivery.run_once()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    cpu = (time.process_time() - started) * 1000 / len(updates)
    if instructions is not None:
        cpu = instructions.stop() / 1e6 / len(updates)
    await deliver(desk)  # anything a round left (not measured)
    return cpu, statements["all"] / len(updates)


async def bench(
    count: int, rounds: int, instructions: Instructions | None, *, single_instance: bool
) -> None:
    unit = "M instructions" if instructions else "ms"
    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        async with (
            temporary_database(ADMIN_URL, prefix="hot_paths") as url,
            running_desk(
                Path(folder),
                clock,
                database_url=url,
                staff_group_messages_per_minute=0,
                private_chat_min_interval_seconds=0,
                bot_messages_per_second=0,
                single_instance=single_instance,
            ) as desk,
        ):
            users, topics = await _desk_with_tickets(desk, count)

            def message(user: TelegramUser, index: int) -> Update:
                return desk.updates.text(user, f"message {index}")

            def reply(user: TelegramUser, index: int) -> Update:
                return desk.updates.group_text(
                    AGENT, STAFF_CHAT_ID, f"reply {index}", thread_id=topics[user.id]
                )

            heading = "instructions" if instructions else "CPU"
            print(f"| update | {heading} per update | statements per update |")
            print("|---|---|---|")
            cpu, statements = await _measure(desk, users, message, instructions)
            print(f"| customer's message, new ticket | {cpu:.2f} {unit} | {statements:.1f} |")
            cpu, statements = await _measure(desk, users, reply, instructions)
            print(f"| agent's first reply | {cpu:.2f} {unit} | {statements:.1f} |")
            lowest: dict[str, float] = {}
            for _ in range(rounds):
                for name, make in (("customer's message", message), ("agent's reply", reply)):
                    cpu, statements = await _measure(desk, users, make, instructions)
                    lowest[name] = min(cpu, lowest.get(name, cpu))
                    print(f"| {name} | {cpu:.2f} {unit} | {statements:.1f} |")
            print("lowest: " + ", ".join(f"{k} {v:.2f} {unit}" for k, v in lowest.items()))


def main() -> int:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(arguments[0]) if arguments else 200
    rounds = int(arguments[1]) if len(arguments) > 1 else 3
    instructions = Instructions() if "--instructions" in sys.argv else None
    print(f"machine: {machine()}")
    single_instance = "--single-instance" in sys.argv
    mode = "the only instance" if single_instance else "one of several instances"
    print(
        f"{count} customers with a ticket each, PostgreSQL, fake Bot API, {rounds} rounds, {mode}"
    )
    asyncio.run(bench(count, rounds, instructions, single_instance=single_instance))
    return 0


if __name__ == "__main__":
    sys.exit(main())
