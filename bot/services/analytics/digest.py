"""The weekly digest: the week's main figures against the week before, written to the outbox.

One digest per schedule fire time and recipient (the outbox key makes a second enqueue a
no-op), to each supervisor privately and to the staff group's general topic, with one chart
(new tickets per day by category). The delivery worker sends rows of kind ``digest``:
``{"html": str, "photo": base64 PNG, "caption": str}`` as a text message and the picture.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.services.analytics.charts import volume_chart
from bot.services.analytics.metrics import BREAKDOWNS, Change, Report
from bot.services.analytics.periods import Period
from bot.services.analytics.service import Analytics
from bot.services.analytics.text import StatsStyle
from storage.unit_of_work import Database

DIGEST = "digest"
TOP = 3


@dataclass(frozen=True, slots=True)
class DigestConfig:
    staff_chat_id: int | None
    supervisor_ids: tuple[int, ...]


def digest_period(fire_time: datetime, style: StatsStyle) -> Period:
    """The seven local days before the day the digest goes out."""
    last = fire_time.astimezone(style.zone).date() - timedelta(days=1)
    return Period(last - timedelta(days=6), last)


def digest_text(style: StatsStyle, week: Report, before: Report) -> str:
    """The digest message: figures with the previous week's, what grew, the worst breaches."""
    first_now, first_then = week.first_response.calendar, before.first_response.calendar
    res_now, res_then = week.resolution.calendar, before.resolution.calendar
    levels, previous_levels = week.service_levels, before.service_levels
    lines = [
        style.render(
            "stats.digest.title",
            first=style.date(week.period_first),
            last=style.date(week.period_last),
        ),
        "",
        style.render(
            "stats.digest.volume",
            created=week.volume.created.current,
            change=style.change(week.volume.created),
            resolved=week.volume.resolved.current,
            resolved_change=style.change(week.volume.resolved),
            backlog=week.volume.backlog_at_end,
        ),
        style.render(
            "stats.digest.times",
            first=style.hours(first_now.median),
            first_before=style.hours(first_then.median),
            resolution=style.hours(res_now.median),
            resolution_before=style.hours(res_then.median),
        ),
        style.render(
            "stats.digest.levels",
            first=style.percent(levels.first_response.share),
            first_before=style.percent(previous_levels.first_response.share),
            resolution=style.percent(levels.resolution.share),
            resolution_before=style.percent(previous_levels.resolution.share),
        ),
        style.render(
            "stats.digest.csat",
            csat=style.percent(week.satisfaction.csat),
            csat_before=style.percent(before.satisfaction.csat),
            reopened=style.percent(week.reopens.rate),
        ),
    ]
    growing = _growing_categories(week, before)
    if growing:
        lines += ["", style.render("stats.digest.growing")]
        lines += [
            style.render(
                "stats.digest.growing_line",
                name=style.category(category),
                count=change.current,
                delta=f"{change.delta:+d}",
            )
            for category, change in growing
        ]
    causes = [row for row in week.causes if row.count.delta > 0][:TOP]
    if causes:
        lines += ["", style.render("stats.digest.causes")]
        lines += [
            style.render(
                "stats.digest.growing_line",
                name=f"{style.cause(row.category, row.cause)} ({style.category(row.category)})",
                count=row.count.current,
                delta=f"{row.count.delta:+d}",
            )
            for row in causes
        ]
    breaches = _worst_breaches(week)
    if breaches:
        lines += ["", style.render("stats.digest.breaches")]
        lines += [
            style.render(
                "stats.digest.breach_line",
                by=style.plain(f"stats.by.{dimension}"),
                name=style.group_key(dimension, key, {}),
                breaches=count,
                share=style.percent(share),
            )
            for dimension, key, count, share in breaches
        ]
    return "\n".join(lines)


def _growing_categories(week: Report, before: Report) -> list[tuple[str, Change]]:
    previous = before.volume.by_category
    changes = [
        (category, Change(count, previous.get(category, 0)))
        for category, count in week.volume.by_category.items()
    ]
    growing = [item for item in changes if item[1].delta > 0]
    growing.sort(key=lambda item: (-item[1].delta, item[0]))
    return growing[:TOP]


def _worst_breaches(week: Report) -> list[tuple[str, str, int, float | None]]:
    """Groups (by team, category, agent, priority) with the most missed targets."""
    rows: list[tuple[str, str, int, float | None]] = []
    levels = week.service_levels
    for dimension in BREAKDOWNS:
        for key, first in levels.first_response_by[dimension].items():
            resolution = levels.resolution_by[dimension].get(key)
            missed = first.breaches + (resolution.breaches if resolution else 0)
            total = first.total + (resolution.total if resolution else 0)
            if missed:
                met = total - missed
                rows.append((dimension, key, missed, met / total if total else None))
    rows.sort(key=lambda row: (-row[2], BREAKDOWNS.index(row[0]), row[1]))
    return rows[:TOP]


class DigestService:
    def __init__(
        self,
        analytics: Analytics,
        database: Database,
        clock: Clock,
        style: StatsStyle,
        config: DigestConfig,
    ) -> None:
        self._analytics = analytics
        self._database = database
        self._clock = clock
        self._style = style
        self._config = config

    def recipients(self) -> Sequence[int]:
        chats = list(self._config.supervisor_ids)
        if self._config.staff_chat_id is not None:
            chats.append(self._config.staff_chat_id)
        return chats

    async def enqueue(self, fire_time: datetime) -> int:
        """Write the digest of the week before ``fire_time`` for every recipient; returns how
        many rows are new (0 when this fire time's digest was already written)."""
        recipients = self.recipients()
        if not recipients:
            return 0
        period = digest_period(fire_time, self._style)
        week = await self._analytics.report(period)
        before = await self._analytics.report(period.previous())
        text = digest_text(self._style, week, before)
        chart = await self._analytics.off_loop(
            volume_chart, week, self._style.label, dict(self._style.category_titles)
        )
        payload = {
            "html": text,
            "photo": base64.b64encode(chart.png).decode("ascii"),
            "caption": self._style.plain("stats.chart.volume"),
        }
        now = self._clock.now()
        added = 0
        async with self._database.unit_of_work() as uow:
            for chat_id in recipients:
                added += await uow.outbox.enqueue(
                    key=f"{DIGEST}:{fire_time.isoformat()}:{chat_id}",
                    chat_id=chat_id,
                    kind=DIGEST,
                    payload=dict(payload),
                    now=now,
                )
        return added
