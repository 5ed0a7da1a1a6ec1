"""Starting the bot: a clear message without a token, migrations and the command menu with one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.__main__ import main
from bot.domain.clock import FrozenClock
from bot.runner import prepare
from tests.harness import running_desk

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`python -m bot`'s conditions in this process: no token or database in the environment,
    an empty working folder (no .env); the root logger it reconfigures is put back afterwards."""
    for name in list(os.environ):
        if name.startswith(("BOT_", "DATABASE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _start(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """What `python -m bot` exits with and writes to stderr."""
    code = main()
    return code, capsys.readouterr().err


@pytest.mark.usefixtures("fresh_start")
def test_without_a_token_it_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, stderr = _start(capsys)
    assert code == 2
    assert "BOT_TOKEN is not set." in stderr
    assert "@BotFather" in stderr
    assert "Traceback" not in stderr


@pytest.mark.usefixtures("fresh_start")
def test_a_bad_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    code, stderr = _start(capsys)
    assert code == 2
    assert "TIMEZONE" in stderr
    assert "Traceback" not in stderr


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


@pytest.mark.usefixtures("fresh_start")
def test_a_broken_knowledge_base_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    data = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge_base" / "data", data)
    broken = data / "en" / "delivery.yaml"
    broken.write_text(broken.read_text(encoding="utf-8") + "\n- id: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    monkeypatch.setenv("KNOWLEDGE_BASE_DIR", str(data))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    code, stderr = _start(capsys)
    assert code == 2
    assert "The bot did not start" in stderr
    assert "delivery.yaml" in stderr
    assert "Traceback" not in stderr


@pytest.mark.process
def test_python_m_bot_is_the_same_start(tmp_path: Path) -> None:
    """The entry point itself, once: the process exits with what `main` returns."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "BOT_TOKEN is not set." in result.stderr
    assert "Traceback" not in result.stderr
