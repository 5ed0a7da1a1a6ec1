"""Instances and caches: in-process caches only where one process owns the database, the
conversation-state cache never ahead of the database, Redis ticket locks under REDIS_PREFIX."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.config import Settings
from bot.domain.clock import FrozenClock
from bot.telegram.fsm_storage import ChatIsolation, DatabaseStorage
from storage.db import create_engine
from storage.fsm_store import Record, fsm_store_for
from storage.instance_lock import AnotherInstanceRunning
from storage.unit_of_work import Database
from tests.conftest import (
    REDIS_URL,
    requires_postgres,
    requires_redis,
    temporary_postgres_database,
)
from tests.harness import Desk, make_settings, running_desk
from tests.staff.conftest import IVAN
from tests.telegram_fake import FakeTelegram, TelegramUser

KEY = StorageKey(bot_id=42, chat_id=IVAN.id, user_id=IVAN.id)


class FailingStore:
    """A conversation-state store whose next save fails (the database went away)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fail = False

    async def load(self, key: str) -> Record:
        loaded: Record = await self.inner.load(key)
        return loaded

    async def save(self, records: Mapping[str, Record], *, now: Any) -> None:
        if self.fail:
            self.fail = False
            raise ConnectionError("the database is not reachable")
        await self.inner.save(records, now=now)

    async def close(self) -> None:
        await self.inner.close()


async def test_the_state_cache_changes_only_after_its_write_succeeded(
    database: Database, clock: FrozenClock
) -> None:
    store = FailingStore(fsm_store_for(database))
    storage = DatabaseStorage(store, clock)
    await storage.set_state(KEY, "ComplaintFlow:filling")
    await storage.set_data(KEY, {"step": "description"})

    store.fail = True
    with pytest.raises(ConnectionError):
        async with storage.batch():
            await storage.set_data(KEY, {"step": "incident_date"})
            assert await storage.get_data(KEY) == {"step": "incident_date"}  # seen inside

    assert await storage.get_data(KEY) == {"step": "description"}  # what the database holds
    assert await DatabaseStorage(fsm_store_for(database), clock).get_data(KEY) == {
        "step": "description"
    }
    store.fail = True
    with pytest.raises(ConnectionError):
        await storage.set_state(KEY, None)
    assert await storage.get_state(KEY) == "ComplaintFlow:filling"


def test_single_instance_mode_is_explicit() -> None:
    sqlite = "sqlite+aiosqlite:///bot.db"
    postgres = "postgresql+asyncpg://bot@db/bot"
    assert make_settings(sqlite).single_instance_mode
    assert not make_settings(sqlite, redis_url="redis://r").single_instance_mode
    assert not make_settings(postgres).single_instance_mode
    assert make_settings(postgres, single_instance=True).single_instance_mode
    assert not make_settings(sqlite, single_instance=False).single_instance_mode
    assert make_settings(postgres, single_instance="yes").single_instance_mode
    with pytest.raises(ValueError, match=r"SINGLE_INSTANCE must be true or false .*'maybe'"):
        Settings.model_validate(
            {"bot_token": "1:x", "database_url": postgres, "single_instance": "maybe"}
        )


@pytest.fixture
async def postgres_pair(
    tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[tuple[str, FakeTelegram]]:
    async with temporary_postgres_database() as url:  # at the newest migration
        yield url, FakeTelegram(clock=clock)


async def _instance(url: str, fake: FakeTelegram, clock: FrozenClock, **settings: Any) -> Desk:
    return Desk(make_settings(url, **settings), Database(create_engine(url)), clock, fake)


async def _close(*desks: Desk) -> None:
    for desk in desks:
        await desk.app.close()


@requires_postgres
async def test_two_instances_on_postgresql_without_redis_never_serve_stale_state(
    postgres_pair: tuple[str, FakeTelegram], clock: FrozenClock
) -> None:
    url, fake = postgres_pair
    fake.add_user(IVAN)
    first, second = await _instance(url, fake, clock), await _instance(url, fake, clock)
    try:
        await first.command(IVAN, "start")
        assert first.last_text(IVAN).startswith("Hello, Ivan!")
        await second.command(IVAN, "language")
        await second.press(IVAN, "🇷🇺 Русский")
        await first.command(IVAN, "start")  # the other instance must see the new language
        assert first.last_text(IVAN).startswith("Здравствуйте, Ivan!")

        # The form started on one instance is cancelled on the other; the first one knows.
        await first.command(IVAN, "complaint")
        await second.command(IVAN, "cancel")
        assert "Заполнение жалобы отменено. Ничего не отправлено." in second.texts(IVAN)
        await first.say(IVAN, "What are your opening hours?")
        assert "выберите категорию" not in first.last_text(IVAN)
    finally:
        await _close(first, second)


@requires_postgres
async def test_a_second_single_instance_on_one_postgresql_refuses_to_start(
    postgres_pair: tuple[str, FakeTelegram], clock: FrozenClock
) -> None:
    url, fake = postgres_pair
    first = await _instance(url, fake, clock, single_instance=True)
    second = await _instance(url, fake, clock, single_instance=True)
    try:
        await first.app.claim_instance()
        with pytest.raises(AnotherInstanceRunning, match="SINGLE_INSTANCE"):
            await second.app.claim_instance()
        await first.app.close()
        await second.app.claim_instance()  # free again once the first has stopped
    finally:
        await _close(second)


@requires_postgres
async def test_the_only_instance_and_instances_of_several_never_run_side_by_side(
    postgres_pair: tuple[str, FakeTelegram], clock: FrozenClock
) -> None:
    """The only instance claims outbox rows without the claim lock and trusts its caches:
    no instance of the other mode may run beside it, whichever starts first."""
    url, fake = postgres_pair
    one, two = await _instance(url, fake, clock), await _instance(url, fake, clock)
    only = await _instance(url, fake, clock, single_instance=True)
    try:
        await one.app.claim_instance()
        await two.app.claim_instance()  # several instances share the database
        with pytest.raises(AnotherInstanceRunning, match="this one must be the only one"):
            await only.app.claim_instance()
        await _close(one, two)
        await only.app.claim_instance()
        late = await _instance(url, fake, clock)
        try:
            with pytest.raises(AnotherInstanceRunning, match="SINGLE_INSTANCE=true runs"):
                await late.app.claim_instance()
        finally:
            await _close(late)
    finally:
        await _close(only)


@requires_redis
async def test_redis_ticket_locks_live_under_the_bots_prefix(
    tmp_path: Path, clock: FrozenClock, redis_prefix: str
) -> None:
    from redis.asyncio import Redis

    assert REDIS_URL
    probe = Redis.from_url(REDIS_URL)
    async with running_desk(
        tmp_path, clock, redis_url=REDIS_URL, redis_prefix=redis_prefix
    ) as desk:
        staff = desk.app.staff
        assert staff is not None
        try:
            async with staff.locks.hold(987654321):
                held = [key.decode() async for key in probe.scan_iter(match="*987654321*")]
                assert held == [f"{redis_prefix}:ticket-lock:987654321"]
            assert not await probe.exists(f"{redis_prefix}:ticket-lock:987654321")
        finally:
            await desk.app.close()
            await probe.aclose()


async def test_per_chat_locks_do_not_pile_up(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_desk(tmp_path, clock) as desk:
        isolation = desk.app.dispatcher.fsm.events_isolation
        assert isinstance(isolation, ChatIsolation)
        for number in range(50):
            user = TelegramUser(50_000 + number, f"Customer {number}", None, None, "en")
            desk.fake.add_user(user)
            await desk.command(user, "start")
            assert desk.last_text(user).startswith(f"Hello, Customer {number}!")
        assert isolation.held == 0
