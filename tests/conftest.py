"""Shared fixtures: databases on SQLite (always) and PostgreSQL / Redis (when CI provides them)."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.domain.clock import FrozenClock

# The app, aiogram, SQLAlchemy and Alembic are imported where used, not here: with xdist the
# controlling process loads this file too, and importing them (over 3 s) there would hold up
# the start of the workers, which need them and import them anyway.
if TYPE_CHECKING:
    from storage.unit_of_work import Database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")

requires_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="TEST_POSTGRES_URL is not set (CI sets it to the local PostgreSQL)"
)
requires_redis = pytest.mark.skipif(
    not REDIS_URL, reason="TEST_REDIS_URL is not set (CI sets it to the local Redis)"
)

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


TESTS = Path(__file__).resolve().parent


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (in addopts): a worker per core for the whole suite; a run of chosen files or
    folders stays in this process, where starting workers (each imports the app, seconds of
    CPU) costs more than it saves."""
    if [arg for arg in config.args if Path(arg.split("::")[0]).resolve() != TESTS]:
        return 0
    return os.cpu_count() or 1


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the test modules imported (aiogram's models, SQLAlchemy, the app) lives for the
    whole run: keep it out of the garbage collector's full passes, which would walk it again
    and again (about a third of a dialogue test's CPU before this, profiled). Every test then
    builds an app (hundreds of routers, observers and handlers): the youngest generation is
    collected every 50,000 new objects instead of every 700 (a sixth less CPU for the dialogue
    tests, measured; the process stays under 450 MB)."""
    from tests.handler_signatures import remember_handler_signatures

    remember_handler_signatures()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Each test process drops the PostgreSQL template its test databases were copied from."""
    migrated = sys.modules.get("tests.migrated")
    if migrated is not None and migrated.postgres_templates_made():
        asyncio.run(migrated.drop_postgres_templates())


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@asynccontextmanager
async def temporary_postgres_database() -> AsyncIterator[str]:
    """A PostgreSQL database at the newest migration for one test, dropped afterwards, so runs
    never collide."""
    assert POSTGRES_URL
    from tests.migrated import migrated_postgres_database

    async with migrated_postgres_database(POSTGRES_URL, prefix="bot_test") as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """The URL of a PostgreSQL database at the newest migration for this test."""
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set (CI sets it to the local PostgreSQL)")
    async with temporary_postgres_database() as url:
        yield url


async def open_database(url: str) -> Database:
    from tests.migrated import migrated_database

    return await migrated_database(url)


@pytest.fixture
async def database(sqlite_url: str) -> AsyncIterator[Database]:
    db = await open_database(sqlite_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
async def any_database(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[Database]:
    """The same test on SQLite and, when available, PostgreSQL."""
    if request.param == "sqlite":
        url = sqlite_url
        db = await open_database(url)
        try:
            yield db
        finally:
            await db.dispose()
        return
    async with temporary_postgres_database() as url:
        db = await open_database(url)
        try:
            yield db
        finally:
            await db.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    yield f"bot-test-{uuid.uuid4().hex[:10]}"
