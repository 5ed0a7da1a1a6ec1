"""The weekly digest: once at its time, by the instance holding the sweep lock."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram.types import BufferedInputFile
from apscheduler.triggers.cron import CronTrigger

from bot.domain.clock import FrozenClock
from bot.jobs.digest import DigestJob, DigestScheduler, build_digest_job
from tests.analytics.history import build_history
from tests.harness import Desk
from tests.staff.conftest import BORIS, STAFF, deliver, open_desk


class Lock:
    def __init__(self, held: bool) -> None:
        self.held = held

    async def acquire(self) -> bool:
        return self.held

    async def release(self) -> None:
        self.held = False


def _job(desk: Desk, held: bool) -> DigestJob:
    job = build_digest_job(
        desk.settings,
        desk.database,
        desk.clock,
        desk.app.tickets.sla,
        desk.app.catalogs,
        Lock(held),
    )
    assert job is not None
    return job


class StuckDigest:
    """A digest still being written when the bot stops."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.unwound = False

    async def enqueue(self, fire: datetime) -> int:
        self.started.set()
        try:
            await asyncio.Event().wait()
        finally:
            self.unwound = True  # where its unit of work would roll back
        return 0


async def test_a_stop_during_the_digest_is_no_failure(caplog: pytest.LogCaptureFixture) -> None:
    """The scheduler cancels the digest it is running when the bot stops. That is logged as
    what it is, not as the digest failing with a traceback (the stop's log is checked for
    tracebacks), and the stop returns once the digest has unwound, before the database
    closes."""
    service = StuckDigest()
    job = DigestJob(
        service,  # type: ignore[arg-type]
        Lock(True),
        CronTrigger.from_crontab("0 9 * * mon", timezone=ZoneInfo("Europe/Moscow")),
        FrozenClock(datetime(2026, 11, 23, 6, 0, 30, tzinfo=UTC)),  # Monday 09:00:30 in Moscow
    )
    scheduler = DigestScheduler(job)
    with caplog.at_level(logging.INFO, logger="bot.jobs.digest"):
        scheduler.start()
        await asyncio.wait_for(service.started.wait(), 5)  # the digest due at the start
        await scheduler.stop()
    assert service.unwound
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r.getMessage() for r in caplog.records if r.name == "bot.jobs.digest"] == [
        "the weekly digest was interrupted by the stop; "
        "a start within an hour of its time writes it"
    ]


async def _digest_rows(desk: Desk) -> list[tuple[int, str]]:
    async with desk.database.unit_of_work() as uow:
        from sqlmodel import select

        from storage.outbox_models import OutboxMessage

        rows = (await uow.session.exec(select(OutboxMessage))).all()
    return sorted((row.chat_id, row.key) for row in rows if row.kind == "digest")


async def test_the_digest_goes_out_once_at_its_time(tmp_path: Path, clock: FrozenClock) -> None:
    async with open_desk(tmp_path, clock, supervisor_ids=[BORIS.id]) as desk:
        await build_history(desk.database)
        leader, follower = _job(desk, True), _job(desk, False)

        # Sunday 23:59 in Moscow: not yet.
        desk.clock.set(datetime(2026, 11, 22, 20, 59, tzinfo=UTC))
        assert await leader.tick() == 0
        # Monday 09:00:30 in Moscow: the follower does nothing, the leader writes it once.
        desk.clock.set(datetime(2026, 11, 23, 6, 0, 30, tzinfo=UTC))
        assert await follower.tick() == 0
        assert await _digest_rows(desk) == []
        assert await leader.tick() == 2
        assert await leader.tick() == 0
        key = "digest:2026-11-23T09:00:00+03:00"
        assert await _digest_rows(desk) == [
            (STAFF, f"{key}:{STAFF}"),
            (BORIS.id, f"{key}:{BORIS.id}"),
        ]
        # Past the grace hour nothing new is due.
        desk.clock.set(datetime(2026, 11, 23, 7, 30, tzinfo=UTC))
        assert await leader.tick() == 0

        await deliver(desk)
        texts = desk.fake.texts_to(BORIS.id)
        assert texts[0].split("\n")[:6] == [
            "🗓 Итоги недели 16.11.2026 – 22.11.2026",
            "",
            "Обращений: 6 (+200% к 2) · решено 3 (+200% к 1) · открыто 4",
            "Медиана первого ответа 0,9 ч (неделей ранее 12,5 ч) · решения 14,0 ч "
            "(неделей ранее 24,0 ч)",
            "В срок: первый ответ 60% (было 100%) · решение 40% (было 100%)",
            "CSAT 50% (было —) · переоткрыто 33% решённых",
        ]
        assert "• Курьер опоздал (Доставка): 2 (+1)" in texts[0]
        assert "Больше всего просрочек" in texts[0]
        group = desk.fake.texts_to(STAFF, thread_id=None)
        assert group[-2] == texts[0]
        photos = desk.fake.calls_of("sendPhoto")
        assert len(photos) == 2
        upload = next(iter(photos[0].files.values()))
        assert isinstance(upload, BufferedInputFile)
        assert upload.data[:8] == b"\x89PNG\r\n\x1a\n"


async def test_an_empty_schedule_turns_the_digest_off(tmp_path: Path, clock: FrozenClock) -> None:
    async with open_desk(tmp_path, clock, digest_schedule="") as desk:
        assert (
            build_digest_job(
                desk.settings,
                desk.database,
                desk.clock,
                desk.app.tickets.sla,
                desk.app.catalogs,
                Lock(True),
            )
            is None
        )
