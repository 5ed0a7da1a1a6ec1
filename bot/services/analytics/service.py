"""The supervisors' report as a library call: `await analytics.report(period, breakdown)`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.services.analytics.charts import Chart, Label, render_charts
from bot.services.analytics.export import Exporter, ExportResult
from bot.services.analytics.metrics import BREAKDOWNS, Report, ReportBuilder
from bot.services.analytics.periods import Period
from bot.services.analytics.queries import Window, agent_names
from bot.services.analytics.queries.report import load
from bot.services.analytics.reader import ReportReader, collector_paused
from bot.services.analytics.worker import (
    build_report,
    in_worker,
    policy_parts,
    shutdown_workers,
    uses_worker,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NamedReport:
    """A report and the display names of the agents it mentions (Telegram id -> name)."""

    report: Report
    agent_names: dict[int, str]


class Analytics:
    """Builds reports over the desk's database without blocking the event loop."""

    def __init__(
        self,
        engine: AsyncEngine,
        policy: SlaPolicy,
        zone: ZoneInfo,
        clock: Clock,
        *,
        in_process: bool = False,
    ) -> None:
        self.reader = ReportReader(engine)
        # Reports are built in the worker process unless ``in_process`` (the command line,
        # tests) or the database is in this process's memory only.
        self._url = (
            None
            if in_process or not uses_worker(engine.url)
            else engine.url.render_as_string(hide_password=False)
        )
        self.policy = policy
        self.zone = zone
        self.clock = clock

    @property
    def builds_in_worker(self) -> bool:
        """Whether reports and charts are made in the worker process (see `worker.py`)."""
        return self._url is not None

    def window(self, period: Period) -> Window:
        start, end = period.bounds(self.zone)
        previous_start, _ = period.previous().bounds(self.zone)
        day_starts = tuple(Period(day, day).bounds(self.zone)[0] for day in period.dates()[1:])
        return Window(start, end, previous_start, min(end, self.clock.now()), day_starts)

    async def report(self, period: Period, breakdown: str | None = None) -> Report:
        """Every figure of ``period`` (see the `metrics` package), with a breakdown by ``category``,
        ``team``, ``agent`` or ``priority`` when asked for."""
        if breakdown is not None and breakdown not in BREAKDOWNS:
            raise ValueError(f"unknown breakdown {breakdown!r}; use one of {', '.join(BREAKDOWNS)}")
        window = self.window(period)
        now = self.clock.now()
        if self._url is not None:
            return await in_worker(
                build_report,
                self._url,
                policy_parts(self.policy),
                self.zone,
                window,
                now,
                period.first,
                period.last,
                breakdown,
            )
        return await compute_report(
            self.reader, self.policy, self.zone, window, now, period.first, period.last, breakdown
        )

    async def named_report(self, period: Period, breakdown: str | None = None) -> NamedReport:
        report = await self.report(period, breakdown)
        names = await self.reader.run(agent_names)
        return NamedReport(report, names)

    async def charts(
        self, report: Report, label: Label, category_titles: Mapping[str, str]
    ) -> Sequence[Chart]:
        """The report's charts as PNG images, rendered in the worker process (``label`` must
        then be picklable, e.g. `CatalogLabel`) or a worker thread."""
        return await self.off_loop(render_charts, report, label, dict(category_titles))

    async def off_loop(self, work: Callable[..., T], *args: Any) -> T:
        """CPU work (a chart) away from the event loop: ``work(*args)`` in the worker process
        when reports are built there, else in a worker thread."""
        if self._url is not None:
            return await in_worker(work, *args)
        return await asyncio.to_thread(work, *args)

    async def export(
        self, period: Period, folder: Path, *, for_upload: bool = True
    ) -> ExportResult:
        """Tickets created in ``period`` and their events, written to files in ``folder``
        (``for_upload``: kept within Telegram's upload limit, see `export.py`)."""
        window = self.window(period)
        exporter = Exporter(self.policy, self.zone)
        stem = f"desk-{period.first.isoformat()}_{period.last.isoformat()}"
        return await self.reader.run(
            lambda connection: exporter.write(
                connection, window, folder, stem, for_upload=for_upload
            )
        )

    async def close(self) -> None:
        """Release the read-only engine and stop the worker process. Stopping a spawned
        process waits for it (about 0.6 s), so that wait happens in a thread: the bot's loop
        keeps finishing its shutdown meanwhile."""
        self.reader.close()
        await asyncio.to_thread(shutdown_workers)


async def compute_report(
    reader: ReportReader,
    policy: SlaPolicy,
    zone: ZoneInfo,
    window: Window,
    now: datetime,
    first: date,
    last: date,
    breakdown: str | None,
) -> Report:
    """The one way a report is built, in the worker process or in this one."""
    builder = ReportBuilder(
        policy,
        zone,
        start=window.start,
        end=window.end,
        previous_start=window.previous_start,
        now=now,
    )
    with collector_paused():
        tickets, counts = await reader.run(lambda connection: load(connection, window))
        # Durations in business hours are CPU work: off the loop as well (in-process path).
        report = await asyncio.to_thread(
            builder.build, tickets, counts, first=first, last=last, breakdown=breakdown
        )
        # Freed before the collector resumes, so it never has them to scan.
        del tickets, counts, builder
    return report
