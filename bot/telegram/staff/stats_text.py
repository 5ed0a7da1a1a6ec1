"""The report as a Telegram message: a compact summary in the staff language."""

from __future__ import annotations

from collections.abc import Mapping

from bot.services.analytics.metrics import DurationStats, GroupRow, Report
from bot.services.analytics.text import StatsStyle
from bot.telegram.text_limits import TEXT_LIMIT, utf16_len

BREAKDOWN_ROWS = 12
CAUSES_SHOWN = 5


def _times(style: StatsStyle, key: str, stats: DurationStats) -> str:
    return style.render(
        key,
        median=style.hours(stats.median),
        p90=style.hours(stats.p90),
        mean=style.hours(stats.mean),
        count=stats.count,
    )


def _group_line(
    style: StatsStyle, dimension: str, row: GroupRow, agent_names: Mapping[int, str]
) -> str:
    return style.render(
        "stats.breakdown.line",
        name=style.group_key(dimension, row.key, agent_names),
        created=row.created,
        resolved=row.resolved,
        first=style.hours(row.first_response_median),
        resolution=style.hours(row.resolution_median),
        first_level=style.percent(row.first_response_level.share),
        resolution_level=style.percent(row.resolution_level.share),
        csat=style.percent(row.csat),
    )


def summary_text(style: StatsStyle, report: Report, agent_names: Mapping[int, str]) -> str:
    """The report in one message (within Telegram's 4096 characters)."""
    volume, levels = report.volume, report.service_levels
    satisfaction, reopens = report.satisfaction, report.reopens
    lines = [
        style.render(
            "stats.title",
            first=style.date(report.period_first),
            last=style.date(report.period_last),
        ),
        "",
        style.render(
            "stats.volume",
            created=volume.created.current,
            change=style.change(volume.created),
            resolved=volume.resolved.current,
            backlog=volume.backlog_at_end,
        ),
        _times(style, "stats.first_response", report.first_response.calendar),
        _times(style, "stats.resolution", report.resolution.calendar),
    ]
    if report.first_response.business is not None and report.resolution.business is not None:
        lines.append(
            style.render(
                "stats.business",
                first=style.hours(report.first_response.business.median),
                resolution=style.hours(report.resolution.business.median),
            )
        )
    lines += [
        style.render(
            "stats.service_level",
            first=style.share(levels.first_response),
            resolution=style.share(levels.resolution),
        ),
        style.render(
            "stats.backlog",
            total=report.backlog.total,
            unassigned=report.backlog.unassigned,
            old=report.backlog.by_age.get(">7d", 0),
        ),
        style.render(
            "stats.reopens",
            reopened=reopens.reopened,
            resolved=reopens.resolved,
            rate=style.percent(reopens.rate),
            not_helped=reopens.not_helped,
        ),
        style.render(
            "stats.satisfaction",
            csat=style.percent(satisfaction.csat),
            average=style.number(satisfaction.average),
            answered=satisfaction.surveys_answered,
            sent=satisfaction.surveys_sent,
            rate=style.percent(satisfaction.response_rate),
        ),
        style.render(
            "stats.decisions",
            justified=style.percent(report.decisions.justified_share),
            count=report.decisions.complaints_decided,
        ),
        style.render(
            "stats.knowledge",
            asked=style.catalogs.count("count.questions", style.locale, report.knowledge.asked),
            helpful=report.knowledge.helpful,
            rate=style.percent(report.knowledge.deflection_rate),
        ),
    ]
    if report.causes:
        lines += ["", style.render("stats.causes.title")]
        lines += [
            style.render(
                "stats.causes.line",
                cause=style.cause(row.category, row.cause),
                category=style.category(row.category),
                count=row.count.current,
                delta=f"{row.count.delta:+d}",
            )
            for row in report.causes[:CAUSES_SHOWN]
        ]
    text = "\n".join(lines)
    if report.breakdown:
        block = [
            "",
            style.render("stats.breakdown.title", by=style.plain(f"stats.by.{report.breakdown}")),
        ]
        for row in report.breakdown_rows[:BREAKDOWN_ROWS]:
            line = _group_line(style, report.breakdown, row, agent_names)
            if utf16_len(text + "\n".join([*block, line])) + 1 > TEXT_LIMIT:
                break
            block.append(line)
        text += "\n" + "\n".join(block)
    return text
