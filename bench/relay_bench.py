"""Relayed customer messages end to end (update in -> copy sent into the topic, including the
delivery worker) against a bare aiogram echo handler, both over the same fake Bot API session.

`python -m bench.relay_bench [messages]`; SQLite in a temporary folder, pacing switched off (it
would measure Telegram's limits, not our code). Two cases: a new ticket (nobody has answered
yet, so the customer is also told where each message went) and a ticket an agent has taken
(a conversation: the message is only relayed). Echo updates and relayed messages are timed
in alternating chunks of 50, so both see the same machine.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiogram.types import Update

from bench.common import Latencies, echo_bot, machine, pin_to_one_core, time_updates
from bot.domain.clock import FrozenClock
from bot.services.intake import ComplaintForm
from storage.models import Ticket
from tests.harness import STAFF_CHAT_ID, running_desk
from tests.telegram_fake import FakeTelegram, TelegramUser, UpdateFactory

CUSTOMER = TelegramUser(1001, "Ivan", "Petrov", "ivanp", "en")
AGENT = TelegramUser(2001, "Anna", "Agent", "anna", "en")
CHUNK = 50  # messages of one kind in a row before switching to the other


async def paired_latencies(count: int, folder: Path, *, taken: bool) -> tuple[Latencies, Latencies]:
    """Echo updates and relayed messages in alternating chunks, so both see the same machine."""
    fake = FakeTelegram()
    echo, echo_client = echo_bot(fake)
    echo_updates = UpdateFactory(fake)

    def echoes(count: int) -> list[Update]:
        return [echo_updates.text(CUSTOMER, f"message {number}") for number in range(count)]

    await time_updates(echo, echo_client, echoes(200))  # warm-up: imports, first-call caches
    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with running_desk(
        folder,
        clock,
        staff_group_messages_per_minute=0,
        private_chat_min_interval_seconds=0,
    ) as desk:
        desk.fake.set_forum(STAFF_CHAT_ID, True)
        desk.fake.set_admins(STAFF_CHAT_ID, [AGENT.id])
        await desk.command(CUSTOMER, "start")
        async with desk.database.unit_of_work() as uow:
            customer = await uow.customers.by_telegram_id(telegram_id=CUSTOMER.id)
        assert customer is not None and customer.id is not None
        await desk.app.tickets.open_complaint(
            customer_id=customer.id,
            form=ComplaintForm(category="delivery", description="bench", incident_date=None),
        )
        staff = desk.app.staff
        assert staff is not None
        await staff.delivery.run_once()
        if taken:
            async with desk.database.unit_of_work() as uow:
                ticket = await uow.session.get(Ticket, 1)
            assert ticket is not None and ticket.topic_id is not None
            take = desk.updates.group_text(AGENT, STAFF_CHAT_ID, "/take", thread_id=ticket.topic_id)
            await desk.app.dispatcher.feed_update(desk.app.bot, take)
            await staff.delivery.run_once()
            async with desk.database.unit_of_work() as uow:
                ticket = await uow.session.get(Ticket, 1)
            assert ticket is not None and ticket.status == "in_progress", ticket
        echo_samples: list[float] = []
        relay_samples: list[float] = []
        for chunk in range(0, count, CHUNK):
            size = min(CHUNK, count - chunk)
            echo_samples += await time_updates(echo, echo_client, echoes(size))
            for number in range(chunk, chunk + size):
                update = desk.updates.text(CUSTOMER, f"message {number}")
                start = time.perf_counter()
                await desk.app.dispatcher.feed_update(desk.app.bot, update)
                await staff.delivery.run_once()
                relay_samples.append((time.perf_counter() - start) * 1000)
        copies = [c for c in desk.fake.calls_of("copyMessage") if c.ok]
        assert len(copies) == count, f"{len(copies)} copies for {count} messages"
        return Latencies(echo_samples), Latencies(relay_samples)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    pinning = pin_to_one_core()
    print(f"machine: {machine()} ({pinning})")
    print(f"messages: {count} each, SQLite, pacing off")
    print("| case | echo p50 ms | relay msg/s | relay p50 ms | relay p99 ms | p50 / echo |")
    print("|---|---|---|---|---|---|")
    for name, taken in (("new ticket", False), ("taken ticket", True)):
        with tempfile.TemporaryDirectory() as folder:
            echo, relay = asyncio.run(paired_latencies(count, Path(folder), taken=taken))
        print(
            f"| {name} | {echo.p50:.2f} | {relay.per_second:.0f} | {relay.p50:.2f} | "
            f"{relay.p99:.2f} | {relay.p50 / echo.p50:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
