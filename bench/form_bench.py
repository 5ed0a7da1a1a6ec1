"""Form steps through the real dispatcher vs a bare aiogram echo bot, same fake Bot API session.

Run: `python -m bench.form_bench [--customers N]`. Both bots get real `Update` objects via
`Dispatcher.feed_update` and answer through the recording fake session (no network), so the
difference is what the desk itself costs: customer lookup, durable FSM state in SQLite (WAL),
validation and rendering the next question.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message

from bench.common import Latencies, machine, pin_to_one_core
from bot.domain.clock import FrozenClock
from tests.harness import running_desk
from tests.telegram_fake import FakeTelegram, TelegramUser, UpdateFactory

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def echo_latencies(count: int) -> Latencies:
    fake = FakeTelegram()
    router = Router()

    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    router.message.register(echo)
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = Bot("42:BENCH", session=fake)
    factory = UpdateFactory(fake)
    users = [TelegramUser(10_000 + i, f"User{i}") for i in range(count)]
    updates = [factory.text(user, "The parcel arrived damaged and wet") for user in users]
    samples = []
    for update in updates:
        began = time.perf_counter()
        await dispatcher.feed_update(bot, update)
        samples.append((time.perf_counter() - began) * 1000)
    return Latencies(samples)


async def form_step_latencies(customers: int) -> Latencies:
    clock = FrozenClock(START)
    with tempfile.TemporaryDirectory() as folder:
        async with running_desk(Path(folder), clock) as desk:
            users = [
                TelegramUser(20_000 + i, f"User{i}", language_code="en") for i in range(customers)
            ]
            for user in users:  # set-up, not measured: each customer at the description step
                await desk.command(user, "complaint")
                await desk.press(user, "Other")
            samples: list[float] = []
            for text in ("The parcel arrived damaged and wet", "21.11.2026"):
                updates = [desk.updates.text(user, text) for user in users]
                for update in updates:
                    began = time.perf_counter()
                    await desk.feed(update)
                    samples.append((time.perf_counter() - began) * 1000)
            assert desk.last_text(users[-1]).startswith("Send photos, receipts")
    return Latencies(samples)


def report(echo: Latencies, form: Latencies) -> str:
    ratio = form.p50 / echo.p50
    rows = [
        "| handler | updates | per second | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
        f"| bare echo | {len(echo.samples_ms)} | {echo.per_second:.0f} | {echo.p50:.2f} | "
        f"{echo.p99:.2f} |",
        f"| complaint form step | {len(form.samples_ms)} | {form.per_second:.0f} | "
        f"{form.p50:.2f} | {form.p99:.2f} |",
    ]
    return "\n".join(rows) + f"\n\nform step / echo (p50): {ratio:.2f}x"


async def main(customers: int) -> None:
    pinning = pin_to_one_core()
    await echo_latencies(200)  # warm-up: imports, first-call caches
    echo = await echo_latencies(customers * 2)
    form = await form_step_latencies(customers)
    print(f"machine: {machine()}; {pinning}")
    print(report(echo, form))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.customers))
