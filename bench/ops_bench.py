"""What operations and privacy cost: the per-update metrics and log line, and how long an
export and an erasure of a customer with a long history take.

`python -m bench.ops_bench [updates]`. Part 1 times a bare aiogram echo handler logging at INFO
into a JSON handler writing to /dev/null (as in production with `LOG_FORMAT=json`): before,
with aiogram's own line per update; after, with `UpdateMetrics` and its line instead (which
is what `configure_logging` sets up), in alternating chunks so both see the same machine.
Part 2 seeds one customer with 50 tickets of 20 messages and 2 files each (SQLite in a
temporary folder) and times `PrivacyService.export` and `PrivacyService.erase`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Latencies, echo_bot, machine, pin_to_one_core, time_updates
from bot.domain.clock import FrozenClock
from bot.domain.tickets import Actor, TicketStatus
from bot.ops.logs import build_handler
from bot.ops.updates import install_update_metrics
from storage.models import Attachment, Customer, Ticket, TicketMessage
from tests.harness import running_desk
from tests.telegram_fake import FakeTelegram, TelegramUser, UpdateFactory

USER = TelegramUser(1001, "Ivan", "Petrov", "ivanp", "en")
CHUNK = 500


async def metrics_overhead(count: int) -> tuple[Latencies, Latencies]:
    fake = FakeTelegram()
    plain, plain_bot = echo_bot(fake)
    measured, measured_bot = echo_bot(fake)
    install_update_metrics(measured)
    updates = UpdateFactory(fake)
    root = logging.getLogger()
    with open(os.devnull, "w", encoding="utf-8") as sink:  # noqa: ASYNC230 - set-up only
        handler = build_handler("json")
        handler.setStream(sink)  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
        warm = [updates.text(USER, "warm") for _ in range(300)]
        await time_updates(plain, plain_bot, warm)
        await time_updates(measured, measured_bot, [updates.text(USER, "w") for _ in range(300)])
        base: list[float] = []
        with_ops: list[float] = []
        aiogram_line = logging.getLogger("aiogram.event")
        for _ in range(max(1, count // CHUNK)):
            # Before: aiogram's own INFO line per update. After: ours instead (see bot.ops.logs).
            aiogram_line.setLevel(logging.INFO)
            batch = [updates.text(USER, f"m {n}") for n in range(CHUNK)]
            base += await time_updates(plain, plain_bot, batch)
            aiogram_line.setLevel(logging.WARNING)
            batch = [updates.text(USER, f"m {n}") for n in range(CHUNK)]
            with_ops += await time_updates(measured, measured_bot, batch)
        root.removeHandler(handler)
    return Latencies(base), Latencies(with_ops)


async def privacy_timings(folder: Path) -> tuple[float, float, dict[str, int]]:
    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with running_desk(folder, clock, staff_chat_id=None) as desk:
        await desk.command(USER, "start")
        now = clock.now()
        async with desk.database.unit_of_work() as uow:
            customer = await uow.customers.by_telegram_id(telegram_id=USER.id)
            assert customer is not None and customer.id is not None
            customer_id = customer.id
            for number in range(50):
                ticket = Ticket(
                    number=f"C-{number + 1:06d}",
                    customer_id=customer_id,
                    category="delivery",
                    description=f"complaint {number} " * 20,
                    fields={"order_number": f"{number:08d}"},
                    contact_phone="+79001234567",
                    status=TicketStatus.CLOSED,
                    created_at=now - timedelta(days=60),
                    updated_at=now,
                    closed_at=now - timedelta(days=40),
                )
                uow.session.add(ticket)
                await uow.session.flush()
                for line in range(20):
                    message = TicketMessage(
                        ticket_id=ticket.id,
                        customer_id=customer_id,
                        direction="in" if line % 2 else "out",
                        text=f"message {line} of ticket {number} " * 5,
                        created_at=now,
                    )
                    uow.session.add(message)
                    await uow.session.flush()
                    if line < 2:
                        uow.session.add(
                            Attachment(
                                ticket_id=ticket.id,
                                message_id=message.id,
                                kind="photo",
                                file_id=f"file-{number}-{line}",
                                file_unique_id=f"u-{number}-{line}",
                                created_at=now,
                            )
                        )
        privacy = desk.app.dispatcher.workflow_data["privacy"]
        began = time.perf_counter()
        export = await privacy.export(customer_id=customer_id, locale="en")
        export_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        report = await privacy.erase(customer_id=customer_id, actor=Actor.customer(customer_id))
        erase_ms = (time.perf_counter() - began) * 1000
        async with desk.database.unit_of_work() as uow:
            assert (await uow.session.get(Customer, customer_id)) is not None
        sizes = {
            "json_kb": len(export.json_bytes) // 1024,
            "text_kb": len(export.text_bytes) // 1024,
            **report.counts,
        }
        return export_ms, erase_ms, sizes


async def main(count: int) -> None:
    print(machine(), "·", pin_to_one_core())
    base, with_ops = await metrics_overhead(count)
    print(
        f"echo + aiogram's log line, {len(base.samples_ms)} updates: "
        f"p50 {base.p50:.3f} ms, p99 {base.p99:.3f} ms"
    )
    print(
        f"echo + UpdateMetrics + JSON log line: p50 {with_ops.p50:.3f} ms, "
        f"p99 {with_ops.p99:.3f} ms (+{(with_ops.p50 - base.p50) * 1000:.0f} µs at p50)"
    )
    with tempfile.TemporaryDirectory() as folder:
        export_ms, erase_ms, sizes = await privacy_timings(Path(folder))
    print(f"export of 50 tickets x 20 messages: {export_ms:.0f} ms ({sizes})")
    print(f"erasure of the same customer: {erase_ms:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
