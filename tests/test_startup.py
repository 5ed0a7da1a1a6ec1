"""Starting the bot: a clear message without a token, migrations and the command menu with one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from bot.domain.clock import FrozenClock
from bot.runner import prepare
from tests.harness import running_desk

ROOT = Path(__file__).resolve().parent.parent


def _run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    clean.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_a_token_it_says_what_to_set(tmp_path: Path) -> None:
    result = _run_bot(tmp_path)
    assert result.returncode == 2
    assert "BOT_TOKEN is not set." in result.stderr
    assert "@BotFather" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_named(tmp_path: Path) -> None:
    result = _run_bot(tmp_path, BOT_TOKEN="1:x", TIMEZONE="Mars/Olympus")
    assert result.returncode == 2
    assert "TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


async def test_prepare_migrates_and_registers_commands(tmp_path: Path, clock: FrozenClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'bot.db'}"
    async with running_desk(tmp_path, clock, database_url=url) as desk:
        await prepare(desk.app)
        async with desk.database.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"customers", "tickets", "ticket_messages", "ticket_events", "outbox"} <= tables
        assert len(desk.fake.calls_of("setMyCommands")) == 4  # customers' and staff menus
    assert (tmp_path / "new" / "bot.db").exists()


async def test_shutdown_waits_for_updates_being_handled(tmp_path: Path, clock: FrozenClock) -> None:
    import asyncio

    from tests.telegram_fake import TelegramUser

    async with running_desk(tmp_path, clock) as desk:
        release = asyncio.Event()
        original = desk.app.customers.register

        async def slow_register(profile):
            await release.wait()
            return await original(profile)

        desk.app.customers.register = slow_register  # type: ignore[method-assign]
        user = TelegramUser(9001, "Slow", language_code="en")
        handling = asyncio.create_task(desk.command(user, "start"))
        await asyncio.sleep(0)  # let the update enter the dispatcher
        assert desk.app.in_flight.count == 1
        release.set()
        assert await desk.app.in_flight.drain(5) is True
        await handling
        assert desk.last_text(user).startswith("Hello, Slow!")


def test_a_broken_knowledge_base_stops_the_start(tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge_base" / "data", data)
    broken = data / "en" / "delivery.yaml"
    broken.write_text(broken.read_text(encoding="utf-8") + "\n- id: [unclosed\n", encoding="utf-8")
    result = _run_bot(
        tmp_path,
        BOT_TOKEN="1:x",
        KNOWLEDGE_BASE_DIR=str(data),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    )
    assert result.returncode == 2
    assert "The bot did not start" in result.stderr
    assert "delivery.yaml" in result.stderr
    assert "Traceback" not in result.stderr
