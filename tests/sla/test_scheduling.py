"""Who runs the sweeps and when: the leader lock, the scheduler, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool

from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.jobs.scheduler import SweepRunner, SweepScheduler
from bot.services.surveys import SurveyConfig, SurveyService
from storage.sweep_leader import PostgresAdvisoryLock, SingleInstance, leadership_for
from storage.unit_of_work import Database
from tests.conftest import open_database, requires_postgres
from tests.harness import Desk, running_desk
from tests.sla.desk_helpers import deliver, resolved_ticket, runner
from tests.sla.helpers import STAFF_CHAT, add_customer, events, make_sweeps, open_ticket, outbox
from tests.telegram_fake import TelegramUser
from tests.texts import project_catalogs

ANNA = TelegramUser(3101, "Anna", language_code="en")


def _runner(database: Database, clock: FrozenClock, leadership: object) -> SweepRunner:
    surveys = SurveyService(
        database, clock, SlaPolicy(), project_catalogs(), SurveyConfig(STAFF_CHAT, "en")
    )
    return SweepRunner(make_sweeps(database, clock), surveys, leadership)  # type: ignore[arg-type]


@pytest.fixture
async def two_instances(postgres_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two instances' databases: one PostgreSQL database, each with its own pool."""
    first = await open_database(postgres_url)
    second = await open_database(postgres_url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


@requires_postgres
async def test_two_instances_on_postgres_run_sweeps_once(
    two_instances: tuple[Database, Database], clock: FrozenClock
) -> None:
    first, second = two_instances
    customer_id = await add_customer(first, clock)
    for _ in range(3):
        await open_ticket(first, clock, customer_id, priority="urgent")
    clock.advance(timedelta(hours=2))
    a = _runner(first, clock, leadership_for(first.engine))
    b = _runner(second, clock, leadership_for(second.engine))
    assert isinstance(a.leadership, PostgresAdvisoryLock)

    reports = await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
    led = [report.led for report in reports]
    assert led in ([True, False, True, False], [False, True, False, True])
    leader, follower = (a, b) if led[0] else (b, a)
    assert len(await events(first, "sla_breach")) == 3
    digests = [row for row in await outbox(first) if row.key.startswith("sla-escalate")]
    assert len(digests) == 2  # one digest each: supervisor, staff group

    # The leader stops (or dies): the other instance takes over at its next tick.
    await leader.leadership.release()
    assert (await follower.tick()).led is True
    assert (await leader.tick()).led is False
    assert len(await events(first, "sla_breach")) == 3
    await follower.leadership.release()


@requires_postgres
async def test_a_stopped_instance_gives_the_sweeps_to_the_next_one(
    two_instances: tuple[Database, Database], clock: FrozenClock
) -> None:
    first, second = two_instances
    leader = SweepScheduler(
        _runner(first, clock, leadership_for(first.engine)), interval_seconds=60
    )
    other = _runner(second, clock, leadership_for(second.engine))
    assert (await leader.runner.tick()).led is True
    assert (await other.tick()).led is False

    await leader.stop()

    pool = first.engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedout() == 0  # the lock's connection is back
    assert (await other.tick()).led is True
    await other.leadership.release()


async def test_sqlite_instance_always_leads(database: Database, clock: FrozenClock) -> None:
    leadership = leadership_for(database.engine)
    assert isinstance(leadership, SingleInstance)
    sweeps = _runner(database, clock, leadership)
    assert (await sweeps.tick()).led is True
    assert (await sweeps.tick()).led is True


async def test_scheduler_runs_the_sweeps_periodically(
    database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(database, clock)
    await open_ticket(database, clock, customer_id, priority="urgent")
    clock.advance(timedelta(hours=2))
    scheduler = SweepScheduler(_runner(database, clock, SingleInstance()), interval_seconds=0.05)
    scheduler.start()
    try:
        for _ in range(100):
            if await events(database, "sla_breach"):
                break
            await asyncio.sleep(0.02)  # the real scheduler's timer; the sweep clock is frozen
    finally:
        await scheduler.stop()
    assert len(await events(database, "sla_breach")) == 1


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    async with running_desk(tmp_path, clock, survey_delay_minutes=0) as running:
        yield running


async def test_restart_between_commit_and_send_delivers_once(
    desk: Desk, clock: FrozenClock
) -> None:
    await resolved_ticket(desk, ANNA)
    clock.advance(timedelta(minutes=1))
    report = await runner(desk).tick()  # committed to the outbox; the process dies here
    assert report.surveys is not None and report.surveys.sent == 1
    assert not any("How satisfied" in text for text in desk.texts(ANNA))

    desk.restart()
    assert (await runner(desk).tick()).surveys.sent == 0  # type: ignore[union-attr]
    assert await deliver(desk) == 1
    assert await deliver(desk) == 0
    desk.restart()
    await runner(desk).tick()
    await deliver(desk)
    assert sum("How satisfied" in text for text in desk.texts(ANNA)) == 1
    rows = [row for row in await outbox(desk.database) if row.key.startswith("survey")]
    assert [(row.status, row.attempts) for row in rows] == [("sent", 1)]
