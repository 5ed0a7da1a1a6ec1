"""The weekly digest on its schedule (`DIGEST_SCHEDULE`, a cron expression in `TIMEZONE`).

APScheduler's cron trigger wakes the job; the job then asks the sweep lock (`Leadership`)
whether this instance leads, so with several instances only one writes the digest, and the
outbox key (one row per fire time and recipient) makes a repeated run harmless. A fire time
is honoured for `GRACE` after it (a restart at 09:10 still sends the 09:00 digest).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.forms.loader import load_form
from bot.locales.catalog import Catalogs
from bot.services.analytics.causes import load_causes
from bot.services.analytics.digest import DigestConfig, DigestService
from bot.services.analytics.service import Analytics
from bot.services.analytics.text import staff_style
from bot.under_way import UnderWay
from storage.sweep_leader import Leadership
from storage.unit_of_work import Database

log = logging.getLogger(__name__)
GRACE = timedelta(hours=1)
JOB_ID = "digest"


class DigestJob:
    def __init__(
        self,
        service: DigestService,
        leadership: Leadership,
        trigger: CronTrigger,
        clock: Clock,
        grace: timedelta = GRACE,
    ) -> None:
        self.service = service
        self.leadership = leadership
        self.trigger = trigger
        self._clock = clock
        self._grace = grace

    def due_fire_time(self, now: datetime) -> datetime | None:
        """The schedule's latest fire time within the grace period before ``now``."""
        fire = self.trigger.get_next_fire_time(None, now - self._grace)
        if fire is None or fire > now:
            return None
        return fire

    async def tick(self) -> int:
        """Write the due digest if this instance holds the sweep lock; returns new rows."""
        fire = self.due_fire_time(self._clock.now())
        if fire is None or not await self.leadership.acquire():
            return 0
        added = await self.service.enqueue(fire)
        if added:
            log.info("weekly digest of %s queued for %d chat(s)", fire.isoformat(), added)
        return added

    async def safe_tick(self) -> None:
        """The scheduler's job. The scheduler cancels it when the bot stops; the digest is
        then written by the next start within `GRACE` (its outbox keys make that harmless),
        so the stop is logged as such and ends the job quietly: left to the scheduler, it
        would be logged as the job's failure with a traceback."""
        try:
            await self.tick()
        except asyncio.CancelledError:
            log.info(
                "the weekly digest was interrupted by the stop; "
                "a start within an hour of its time writes it"
            )
        except Exception:
            log.exception("the weekly digest failed; it is tried again at the next sweep")


def digest_trigger(settings: Settings) -> CronTrigger | None:
    if not settings.digest_schedule:
        return None
    return CronTrigger.from_crontab(settings.digest_schedule, timezone=ZoneInfo(settings.timezone))


def build_digest_job(
    settings: Settings,
    database: Database,
    clock: Clock,
    sla: SlaPolicy,
    catalogs: Catalogs,
    leadership: Leadership,
) -> DigestJob | None:
    """None when `DIGEST_SCHEDULE` is empty (the digest is off)."""
    trigger = digest_trigger(settings)
    if trigger is None:
        return None
    locale = settings.default_locale
    zone = ZoneInfo(settings.timezone)
    schema = load_form(settings.complaint_form_file)
    style = staff_style(catalogs, locale, zone, schema, load_causes(settings.causes_file))
    service = DigestService(
        Analytics(database.engine, sla, zone, clock),
        database,
        clock,
        style,
        DigestConfig(settings.staff_chat_id, tuple(settings.supervisor_ids)),
    )
    return DigestJob(service, leadership, trigger, clock)


class DigestScheduler:
    """Runs the job at the schedule's fire times (and once at start, for a missed one)."""

    def __init__(self, job: DigestJob, *, unwind_seconds: float = 5.0) -> None:
        self.job = job
        self._scheduler: AsyncIOScheduler | None = None
        self._unwind = unwind_seconds
        self._runs = UnderWay()

    def start(self) -> None:
        """Needs a running event loop (call from async code)."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self._tick,
            self.job.trigger,
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(GRACE.total_seconds()),
        )
        scheduler.add_job(self._tick, id=f"{JOB_ID}-at-start")
        scheduler.start()
        self._scheduler = scheduler

    async def _tick(self) -> None:
        await self._runs.run(self.job.safe_tick)

    async def stop(self) -> None:
        """A digest being written is not waited for (building it takes seconds, the stop must
        not): shutting the scheduler down cancels it, and the next start writes it (see
        `DigestJob.safe_tick`). Its unit of work is waited for to roll back, before the
        database it uses is closed."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if not await self._runs.finished(self._unwind):
            log.warning("the weekly digest was still running at shutdown")
