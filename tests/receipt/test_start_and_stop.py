"""Starting several instances at once (the migration race) and stopping while a sweep runs."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.jobs.scheduler import SweepScheduler
from bot.runner import webhook_path
from storage.db import create_engine
from storage.migrate import alembic_config
from storage.sweep_leader import SingleInstance
from tests.conftest import POSTGRES_URL, requires_postgres
from tests.postgres import temporary_database

ROOT = Path(__file__).resolve().parent.parent.parent


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def _version(url: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return str(
                (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            )
    finally:
        await engine.dispose()


MIGRATE = (
    "import asyncio, sys\n"
    "from storage.db import create_engine\n"
    "from storage.migrate import upgrade_database\n"
    "asyncio.run(upgrade_database(create_engine(sys.argv[1])))\n"
)


async def _migrate_together(url: str, instances: int) -> None:
    """Start several processes that migrate the same database at the same moment, as
    instances of the bot starting together do; every one must succeed."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            MIGRATE,
            url,
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(instances)
    ]
    outcomes = [await process.communicate() for process in processes]
    for process, (_, errors) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, errors.decode()


@pytest.mark.process  # instances of the bot starting together: processes of their own
@requires_postgres
async def test_instances_started_together_on_a_fresh_postgres_all_come_up() -> None:
    assert POSTGRES_URL
    async with temporary_database(POSTGRES_URL, prefix="bot_fresh") as url:  # empty
        await _migrate_together(url, 4)
        await _migrate_together(url, 2)  # and again, on a database already at head
        assert await _version(url) == _head()


@pytest.mark.process
async def test_instances_started_together_on_a_fresh_sqlite_file_all_come_up(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await _migrate_together(url, 3)
    assert await _version(url) == _head()


class _SlowSweep:
    """A sweep that runs until the test lets it finish."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.finished = False
        self.leadership = SingleInstance()

    async def safe_tick(self) -> None:
        self.started.set()
        await self.release.wait()
        self.finished = True


async def test_shutdown_waits_for_a_running_sweep(caplog: pytest.LogCaptureFixture) -> None:
    """The scheduler fires the sweep as its own task; stopping lets that run finish instead of
    cancelling it midway (shutting APScheduler down cancels the jobs it is running)."""
    sweep = _SlowSweep()
    scheduler = SweepScheduler(sweep, interval_seconds=0.05)  # type: ignore[arg-type]
    scheduler.start()
    await asyncio.wait_for(sweep.started.wait(), 5)  # the scheduler fired the job

    stopping = asyncio.create_task(scheduler.stop())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not stopping.done()  # the database must stay open while the sweep uses it

    sweep.release.set()
    await asyncio.wait_for(stopping, 5)
    assert sweep.finished
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_webhook_listens_on_the_path_of_its_url() -> None:
    assert webhook_path("https://desk.example.com/webhook") == "/webhook"
    assert webhook_path("https://desk.example.com/tg/desk-bot/7f3a") == "/tg/desk-bot/7f3a"
    assert webhook_path("https://desk.example.com") == "/"
