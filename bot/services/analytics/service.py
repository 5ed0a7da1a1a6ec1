"""The supervisors' report as a library call: `await analytics.report(period, breakdown)`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.services.analytics.charts import Chart, Label, render_charts
from bot.services.analytics.export import Exporter, ExportResult
from bot.services.analytics.metrics import BREAKDOWNS, Report, ReportBuilder
from bot.services.analytics.periods import Period
from bot.services.analytics.queries import Window, agent_names, load
from bot.services.analytics.reader import ReportReader, collector_paused

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NamedReport:
    """A report and the display names of the agents it mentions (Telegram id -> name)."""

    report: Report
    agent_names: dict[int, str]


class Analytics:
    """Builds reports over the desk's database without blocking the event loop."""

    def __init__(
        self, engine: AsyncEngine, policy: SlaPolicy, zone: ZoneInfo, clock: Clock
    ) -> None:
        self.reader = ReportReader(engine)
        self.policy = policy
        self.zone = zone
        self.clock = clock

    def window(self, period: Period) -> Window:
        start, end = period.bounds(self.zone)
        previous_start, _ = period.previous().bounds(self.zone)
        return Window(start, end, previous_start, min(end, self.clock.now()))

    async def report(self, period: Period, breakdown: str | None = None) -> Report:
        """Every figure of ``period`` (see `metrics.py`), with a breakdown by ``category``,
        ``team``, ``agent`` or ``priority`` when asked for."""
        if breakdown is not None and breakdown not in BREAKDOWNS:
            raise ValueError(f"unknown breakdown {breakdown!r}; use one of {', '.join(BREAKDOWNS)}")
        window = self.window(period)
        builder = ReportBuilder(
            self.policy,
            self.zone,
            start=window.start,
            end=window.end,
            previous_start=window.previous_start,
            now=self.clock.now(),
        )
        with collector_paused():
            tickets, counts = await self.reader.run(lambda connection: load(connection, window))
            # Durations in business hours are CPU work: off the loop as well.
            report = await asyncio.to_thread(
                builder.build,
                tickets,
                counts,
                first=period.first,
                last=period.last,
                breakdown=breakdown,
            )
            # Freed before the collector resumes, so it never has them to scan.
            del tickets, counts, builder
        return report

    async def named_report(self, period: Period, breakdown: str | None = None) -> NamedReport:
        report = await self.report(period, breakdown)
        names = await self.reader.run(agent_names)
        return NamedReport(report, names)

    async def charts(
        self, report: Report, label: Label, category_titles: Mapping[str, str]
    ) -> Sequence[Chart]:
        """The report's charts as PNG images, rendered in a worker thread."""
        return await asyncio.to_thread(render_charts, report, label, category_titles)

    async def in_thread(self, work: Callable[[], T]) -> T:
        """CPU work (a chart) in a worker thread."""
        return await asyncio.to_thread(work)

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

    def close(self) -> None:
        self.reader.close()
