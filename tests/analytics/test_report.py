"""The report's figures on a known history, computed by hand (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.locales.catalog import LOCALES_DIR
from bot.services.analytics import Analytics
from bot.services.analytics.metrics import duration_stats, median, percentile
from bot.services.analytics.text import CatalogLabel
from storage.unit_of_work import Database
from tests.analytics.history import (
    ANNA_ID,
    BORIS_ID,
    SPECS,
    WEEK,
    Spec,
    Step,
    at,
    build_history,
)
from tests.migrated import migrated_database

MOSCOW = ZoneInfo("Europe/Moscow")


def analytics(database: Database, *, business: bool = False, in_process: bool = True) -> Analytics:
    """Reports built in this process unless told otherwise: the same code as in the worker
    process (whose figures `test_the_worker_process_builds_the_same_report_as_this_process`
    compares with these), without starting a worker per test (seconds each)."""
    policy = SlaPolicy.from_config(timezone="Europe/Moscow", business_time_only=business)
    clock = FrozenClock(at(23, 9, 30))
    return Analytics(database.engine, policy, MOSCOW, clock, in_process=in_process)


def test_median_p90_and_buckets_follow_their_definitions() -> None:
    assert median([1.0, 2.0, 10.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert percentile([float(i) for i in range(1, 12)], 0.9) == 10.0
    stats = duration_stats([0.99, 1.0, 4.0, 8.0, 24.0, 48.0, 47.99])
    assert stats.buckets == {"<1h": 1, "1-4h": 1, "4-8h": 1, "8-24h": 1, "24-48h": 2, ">48h": 1}


async def test_the_week_in_figures(any_database: Database) -> None:
    await build_history(any_database)
    service = analytics(any_database)
    report = await service.report(WEEK)
    await service.close()

    volume = report.volume
    assert (volume.created.current, volume.created.previous) == (6, 2)
    assert volume.created.percent == 200.0
    assert (volume.resolved.current, volume.resolved.previous) == (3, 1)
    # C-000002 was created at 21:30 UTC on Monday, which is Tuesday in Moscow.
    assert [count for _, count in volume.by_day] == [1, 1, 1, 1, 1, 0, 1]
    assert volume.by_day[0][0] == date(2026, 11, 16)
    assert dict(volume.by_day_category)[date(2026, 11, 17)] == {"payment": 1}
    assert volume.by_category == {"delivery": 3, "payment": 2, "quality": 1}
    assert volume.by_team == {"delivery": 3, "payments": 2, "support": 1}
    assert volume.by_priority == {"normal": 3, "high": 1, "low": 1, "urgent": 1}
    assert volume.by_language == {"ru": 4, "en": 2}
    assert volume.by_kind == {"complaint": 6}
    assert volume.by_source == {"telegram": 6}
    assert volume.backlog_at_end == 4

    first = report.first_response.calendar
    assert first.count == 4
    assert (first.median, first.p90, first.mean) == (0.875, 2.0, 1.0625)
    assert first.buckets == {"<1h": 2, "1-4h": 2, "4-8h": 0, "8-24h": 0, "24-48h": 0, ">48h": 0}
    assert report.first_response.business is None

    # 14 h (24 h less 10 h waiting), 12 h (reopened, resolved again), 48 h.
    resolution = report.resolution.calendar
    assert resolution.count == 3
    assert resolution.median == 14.0
    assert resolution.p90 == 48.0
    assert resolution.mean == pytest.approx(74 / 3)
    assert resolution.buckets["8-24h"] == 2
    assert resolution.buckets[">48h"] == 1

    levels = report.service_levels
    assert (levels.first_response.met, levels.first_response.total) == (3, 5)
    assert (levels.resolution.met, levels.resolution.total) == (2, 5)
    by_priority = levels.first_response_by["priority"]
    assert (by_priority["urgent"].met, by_priority["urgent"].total) == (0, 1)
    assert levels.resolution_by["team"]["payments"].breaches == 2

    backlog = report.backlog
    assert backlog.total == 4
    assert backlog.by_state == {
        "new": 2,
        "in_progress": 1,
        "waiting_customer": 1,
        "reopened": 0,
    }
    assert backlog.by_age == {"<1d": 1, "1-3d": 1, "3-7d": 2, ">7d": 0}
    assert backlog.unassigned == 2
    assert backlog.oldest_number == "C-000003"

    reopens = report.reopens
    assert (reopens.resolved, reopens.reopened, reopens.not_helped) == (3, 1, 1)
    assert reopens.rate == pytest.approx(1 / 3)

    satisfaction = report.satisfaction
    assert (satisfaction.surveys_sent, satisfaction.surveys_answered) == (3, 2)
    assert satisfaction.response_rate == pytest.approx(2 / 3)
    assert (satisfaction.average, satisfaction.csat) == (3.5, 0.5)
    assert satisfaction.distribution == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert [(low.number, low.rating, low.comment) for low in satisfaction.low] == [
        ("C-000002", 2, "too slow")
    ]

    decisions = report.decisions
    assert decisions.by_type["refund"] == 1
    assert decisions.by_type["rejected"] == 1
    assert decisions.by_type["replacement"] == 1
    assert decisions.justified_share == pytest.approx(2 / 3)

    causes = [
        (row.category, row.cause, row.count.current, row.count.previous) for row in report.causes
    ]
    assert causes == [("delivery", "late_courier", 2, 1), ("payment", "double_charge", 1, 0)]

    agents = {row.key: row for row in report.agents}
    anna, boris = agents[str(ANNA_ID)], agents[str(BORIS_ID)]
    assert (anna.created, anna.resolved, anna.first_response_median) == (2, 2, 0.625)
    assert anna.resolution_median == 31.0
    assert (anna.csat, boris.csat) == (1.0, 0.0)
    assert (boris.created, boris.resolved, boris.first_response_median) == (2, 1, 1.5)
    assert agents["-"].created == 2

    knowledge = report.knowledge
    assert (knowledge.asked, knowledge.answered, knowledge.helpful) == (4, 2, 1)
    assert knowledge.deflection_rate == 0.25
    assert knowledge.top_unanswered == [("where is my refund", 2), ("how to pay", 1)]


async def test_each_ticket_is_credited_only_with_its_own_waits(any_database: Database) -> None:
    earlier = [
        # From before the period, resolved in it after two waits: 24 h less 1 h and 20 h.
        Spec(
            "C-000010",
            at(15, 10),
            "delivery",
            "normal",
            "delivery",
            ANNA_ID,
            "en",
            [
                Step(at(15, 11), "waiting_customer"),
                Step(at(15, 12), "in_progress"),
                Step(at(15, 13), "waiting_customer"),
                Step(at(16, 9), "in_progress"),
                Step(at(16, 10), "resolved"),
            ],
            first_response=at(15, 11),
        ),
        # Waited too, but is neither created nor resolved in the period.
        Spec(
            "C-000011",
            at(15, 9),
            "delivery",
            "normal",
            "delivery",
            ANNA_ID,
            "en",
            [Step(at(15, 10), "waiting_customer"), Step(at(16, 12), "in_progress")],
            first_response=at(15, 10),
        ),
    ]
    await build_history(any_database, [*SPECS, *earlier])
    service = analytics(any_database)
    report = await service.report(WEEK)
    await service.close()

    # 3 h, 12 h, 14 h, 48 h.
    resolution = report.resolution.calendar
    assert (resolution.count, resolution.median, resolution.mean) == (4, 13.0, 19.25)
    assert resolution.buckets["1-4h"] == 1


async def test_business_hours_count_only_working_time(any_database: Database) -> None:
    await build_history(any_database)
    service = analytics(any_database, business=True)
    report = await service.report(WEEK, "category")
    await service.close()

    business = report.first_response.business
    assert business is not None
    # C-000002 was answered at 02:30 on Tuesday night in Moscow: no working time had passed.
    assert (business.count, business.median, business.p90) == (4, 0.625, 1.0)
    resolution = report.resolution.business
    assert resolution is not None
    # 2 h (9 h less 7 working hours waiting), 3.5 h, 4 h (a weekend in between).
    assert (resolution.median, resolution.p90) == (3.5, 4.0)
    # Targets are judged in business time now: the night answer met its 1 h target.
    assert (
        report.service_levels.first_response.met,
        report.service_levels.first_response.total,
    ) == (4, 5)
    assert [row.key for row in report.breakdown_rows] == ["delivery", "payment", "quality"]
    assert report.breakdown == "category"


async def test_an_unknown_breakdown_is_refused(database: Database) -> None:
    service = analytics(database)
    with pytest.raises(ValueError, match="unknown breakdown"):
        await service.report(WEEK, "weather")
    await service.close()


async def test_the_worker_process_builds_the_same_report_as_this_process(
    any_database: Database,
) -> None:
    """The bot builds reports (and charts) in a separate process, which reads the database on
    its own read-only connection; the figures are those of the in-process path."""
    await build_history(any_database)
    policy = SlaPolicy.from_config(timezone="Europe/Moscow", business_time_only=True)
    clock = FrozenClock(at(23, 9, 30))
    here = Analytics(any_database.engine, policy, MOSCOW, clock, in_process=True)
    there = Analytics(any_database.engine, policy, MOSCOW, clock)
    assert there.builds_in_worker and not here.builds_in_worker
    expected = await here.report(WEEK, "agent")
    built = await there.report(WEEK, "agent")
    assert built == expected
    assert built.volume.created.current == 6
    assert built.resolution.business is not None
    charts = await there.charts(built, CatalogLabel(LOCALES_DIR, "ru", "en"), {})
    assert [chart.png[:8] for chart in charts] == [b"\x89PNG\r\n\x1a\n"] * len(charts)

    # Stopping the worker process waits for it; the loop is not held meanwhile (the bot's
    # shutdown had stalled 0.6 s on it).
    closing = asyncio.create_task(there.close())
    await asyncio.sleep(0)
    assert not closing.done()
    await closing


async def test_an_in_memory_database_is_reported_on_in_this_process() -> None:
    database = await migrated_database("sqlite+aiosqlite:///:memory:")
    try:
        await build_history(database)
        service = analytics(database, in_process=False)
        assert not service.builds_in_worker
        report = await service.report(WEEK)
        assert report.volume.created.current == 6
        await service.close()
    finally:
        await database.dispose()
