"""Running the sweeps every minute (configurable) with APScheduler, on one instance only."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.locales.catalog import Catalogs
from bot.ops.metrics import SLA_BREACHES, SWEEP_SECONDS
from bot.services.privacy import PrivacyService
from bot.services.privacy_config import PrivacyConfig
from bot.services.retention import RetentionSweep
from bot.services.sla_sweeps import SlaSweepReport, SlaSweeps
from bot.services.surveys import SurveyConfig, SurveyService, SurveySweepReport
from bot.services.sweep_config import SweepConfig
from bot.under_way import UnderWay
from storage.sweep_leader import Leadership, leadership_for
from storage.unit_of_work import Database

log = logging.getLogger(__name__)
JOB_ID = "sweeps"


def sweep_config(settings: Settings) -> SweepConfig:
    return SweepConfig(
        staff_chat_id=settings.staff_chat_id,
        staff_locale=settings.default_locale,
        zone=ZoneInfo(settings.timezone),
        supervisor_ids=tuple(settings.supervisor_ids),
        still_working_after=timedelta(hours=settings.still_working_after_hours),
        auto_close_after=timedelta(days=settings.auto_close_days),
        raises_priority=settings.escalation_raises_priority,
    )


def survey_config(settings: Settings) -> SurveyConfig:
    return SurveyConfig(
        staff_chat_id=settings.staff_chat_id,
        staff_locale=settings.default_locale,
        delay=timedelta(minutes=settings.survey_delay_minutes),
        reminder_after=timedelta(days=settings.survey_reminder_days),
    )


def build_survey_service(
    settings: Settings, database: Database, clock: Clock, sla: SlaPolicy, catalogs: Catalogs
) -> SurveyService:
    return SurveyService(database, clock, sla, catalogs, survey_config(settings))


def privacy_config(settings: Settings) -> PrivacyConfig:
    retention = settings.retention_days
    return PrivacyConfig(
        staff_chat_id=settings.staff_chat_id,
        staff_locale=settings.default_locale,
        zone=ZoneInfo(settings.timezone),
        erase_topics=settings.erase_topics,
        retention=None if retention is None else timedelta(days=retention),
    )


def build_privacy_service(
    settings: Settings, database: Database, clock: Clock, sla: SlaPolicy, catalogs: Catalogs
) -> PrivacyService:
    return PrivacyService(database, clock, sla, catalogs, privacy_config(settings))


class IncidentSweep(Protocol):
    async def sweep(self) -> int:
        """All-clears for calmed incident alerts, unfinished resolutions; alerts closed."""
        ...


@dataclass
class TickReport:
    led: bool
    sla: SlaSweepReport | None = None
    surveys: SurveySweepReport | None = None
    anonymised: int | None = None  # tickets anonymised by the daily retention sweep
    calmed_alerts: int = 0


class SweepRunner:
    """One tick: run every sweep if this instance leads; each sweep is idempotent."""

    def __init__(
        self,
        sla: SlaSweeps,
        surveys: SurveyService,
        leadership: Leadership,
        retention: RetentionSweep | None = None,
        incidents: IncidentSweep | None = None,
    ) -> None:
        self.sla = sla
        self.surveys = surveys
        self.leadership = leadership
        self.retention = retention
        self.incidents = incidents

    async def tick(self) -> TickReport:
        if not await self.leadership.acquire():
            return TickReport(led=False)
        report = TickReport(led=True)
        with SWEEP_SECONDS.labels("sla").time():
            report.sla = await self.sla.run_once()
        for target, count in report.sla.breached.items():
            SLA_BREACHES.labels(target).inc(count)
        with SWEEP_SECONDS.labels("surveys").time():
            report.surveys = await self.surveys.run_once()
        if self.retention is not None:
            started = time.perf_counter()
            report.anonymised = await self.retention.run_if_due()
            if report.anonymised is not None:  # timed only when it ran (once a day)
                SWEEP_SECONDS.labels("retention").observe(time.perf_counter() - started)
        if self.incidents is not None:
            report.calmed_alerts = await self.incidents.sweep()
        if report.sla.total or report.surveys.sent or report.surveys.reminded:
            log.info("sweeps: %s %s", report.sla, report.surveys)
        return report

    async def safe_tick(self) -> None:
        try:
            await self.tick()
        except Exception:
            log.exception("scheduled sweeps failed; they run again at the next tick")


def build_runner(
    settings: Settings,
    database: Database,
    clock: Clock,
    sla: SlaPolicy,
    catalogs: Catalogs,
    incidents: IncidentSweep | None = None,
) -> SweepRunner:
    return SweepRunner(
        SlaSweeps(database, clock, sla, catalogs, sweep_config(settings)),
        build_survey_service(settings, database, clock, sla, catalogs),
        leadership_for(database.engine),
        retention=RetentionSweep(database, clock, privacy_config(settings)),
        incidents=incidents,
    )


class SweepScheduler:
    """Starts and stops the periodic job; the runner holds no state between ticks."""

    def __init__(
        self, runner: SweepRunner, interval_seconds: float, *, stop_grace_seconds: float = 30.0
    ) -> None:
        self.runner = runner
        self._interval = interval_seconds
        self._stop_grace = stop_grace_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._runs = UnderWay()

    def start(self) -> None:
        """Needs a running event loop (call from async code)."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self._interval,
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(self._interval)),
        )
        scheduler.start()
        self._scheduler = scheduler

    async def tick(self) -> None:
        """One scheduled run (the job); `stop` waits for it to finish."""
        await self._runs.run(self.runner.safe_tick)

    async def stop(self) -> None:
        """No new tick starts; a tick already running is waited for (it uses the database,
        which is closed right after). The lead is given up: another instance takes the sweeps
        over at its next tick, and the lock's connection goes back before the database
        closes."""
        # Paused, not shut down yet: shutting APScheduler down cancels the jobs it is running.
        if self._scheduler is not None:
            self._scheduler.pause()
        if not await self._runs.finished(self._stop_grace):
            log.warning("a sweep was still running at shutdown")
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self.runner.leadership.release()
