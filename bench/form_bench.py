"""Form steps through the real dispatcher vs a bare aiogram echo bot, same fake Bot API session.

Run: `python -m bench.form_bench [--customers N]`. Both bots get real `Update` objects via
`Dispatcher.feed_update` and answer through the same session (no network), so the difference
is what the desk itself costs: customer lookup, durable FSM state in SQLite (WAL), validation
and rendering the next question. The session is either a light one that only parses
Telegram-shaped JSON results (closest to production) or the tests' recording fake; echo updates
and form steps are timed in alternating chunks of 50 so that both see the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession

from bench.common import Latencies, echo_bot, machine, pin_to_one_core, time_updates
from bench.light_session import LightSession
from bot.app import build_app
from bot.domain.clock import FrozenClock
from bot.telegram.callbacks import FormCallback
from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.unit_of_work import Database
from tests.harness import make_settings
from tests.telegram_fake import FakeTelegram, TelegramUser, UpdateFactory

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
CHUNK = 50  # updates of one kind in a row before switching to the other
SESSIONS = {
    "light": "light (JSON result parsed as the HTTP session does, no bookkeeping)",
    "fake": "recording fake Bot API of the tests (state, HTML parsing, copies)",
}


def make_session(kind: str) -> BaseSession:
    return LightSession() if kind == "light" else FakeTelegram()


def echo_dispatcher(session_kind: str) -> tuple[Dispatcher, Bot, UpdateFactory]:
    session = make_session(session_kind)
    factory = UpdateFactory(session if isinstance(session, FakeTelegram) else None)
    return *echo_bot(session), factory


async def echo_latencies(count: int, session_kind: str) -> Latencies:
    dispatcher, bot, factory = echo_dispatcher(session_kind)
    users = [TelegramUser(10_000 + i, f"User{i}") for i in range(count)]
    updates = [factory.text(user, "The parcel arrived damaged and wet") for user in users]
    return Latencies(await time_updates(dispatcher, bot, updates))


async def paired_latencies(customers: int, session_kind: str) -> tuple[Latencies, Latencies]:
    """Echo updates and form steps in alternating chunks, so both see the same machine (a
    shared machine's speed drifts over seconds)."""
    clock = FrozenClock(START)
    pick_other = FormCallback(action="pick", step="category", value="other").pack()
    echo, echo_client, echo_factory = echo_dispatcher(session_kind)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        database = Database(create_engine(url))
        await upgrade_database(database.engine)
        session = make_session(session_kind)
        app = build_app(make_settings(url), clock=clock, session=session, database=database)
        factory = UpdateFactory(session if isinstance(session, FakeTelegram) else None)
        users = [TelegramUser(20_000 + i, f"User{i}", language_code="en") for i in range(customers)]
        for user in users:  # set-up, not measured: each customer at the description step
            await app.dispatcher.feed_update(app.bot, factory.command(user, "complaint"))
            press = factory.callback(user, pick_other, chat_id=user.id, message_id=1)
            await app.dispatcher.feed_update(app.bot, press)
        steps = [
            factory.text(user, text)
            for text in ("The parcel arrived damaged and wet", "21.11.2026")
            for user in users
        ]
        echoes = [
            echo_factory.text(TelegramUser(10_000 + i, f"User{i}"), "The parcel arrived damaged")
            for i in range(len(steps))
        ]
        echo_samples: list[float] = []
        form_samples: list[float] = []
        for chunk in range(0, len(steps), CHUNK):
            echo_samples += await time_updates(echo, echo_client, echoes[chunk : chunk + CHUNK])
            form_samples += await time_updates(
                app.dispatcher, app.bot, steps[chunk : chunk + CHUNK]
            )
        state = await app.dispatcher.fsm.get_context(app.bot, users[-1].id, users[-1].id).get_data()
        assert state["step"] == "attachments", state
        await app.close()
    return Latencies(echo_samples), Latencies(form_samples)


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


async def main(customers: int, sessions: list[str]) -> None:
    pinning = pin_to_one_core()
    print(f"machine: {machine()}; {pinning}")
    for kind in sessions:
        await echo_latencies(200, kind)  # warm-up: imports, first-call caches
        echo, form = await paired_latencies(customers, kind)
        print(f"\nsession: {SESSIONS[kind]}")
        print(report(echo, form))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument(
        "--session",
        choices=["light", "fake", "both"],
        default="light",
        help="which session to measure (one per process gives the steadiest numbers)",
    )
    args = parser.parse_args()
    asyncio.run(
        main(args.customers, ["light", "fake"] if args.session == "both" else [args.session])
    )
