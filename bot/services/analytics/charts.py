"""Charts of a report as PNG images, readable on a phone (1200 px wide, large type).

matplotlib's object API with the Agg canvas: no display, no pyplot state shared between
threads, so the bot renders charts in a worker thread while it keeps answering.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING, Any, Protocol

from bot.services.analytics.metrics import AGE_BUCKETS, BUCKETS, Report, Share

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_INCHES = 12.0
HEIGHT_INCHES = 7.5
DPI = 100  # 1200 x 750 px
WIDTH_PX = int(WIDTH_INCHES * DPI)
HEIGHT_PX = int(HEIGHT_INCHES * DPI)
TITLE_SIZE = 26
LABEL_SIZE = 20
TICK_SIZE = 17
LEGEND_SIZE = 16
CATEGORIES_SHOWN = 6
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")
MET = "#59a14f"
MISSED = "#e15759"


class Label(Protocol):
    """Chart texts in the staff language: catalogue keys, and days as that language writes
    them (see `text.CatalogLabel`)."""

    def __call__(self, key: str, /, **params: Any) -> str: ...

    def day(self, day: date) -> str: ...


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    png: bytes


def _figure() -> Figure:
    # matplotlib (and numpy, Pillow) are imported here, where a chart is drawn: in the report
    # worker process, not at the bot's start (about 30 MB; tests/test_lean_imports.py).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _style(axes: object, title: str, ylabel: str) -> None:
    from matplotlib.ticker import MaxNLocator  # loaded with the figure (see `_figure`)

    axes.set_title(title, fontsize=TITLE_SIZE, pad=16)  # type: ignore[attr-defined]
    axes.set_ylabel(ylabel, fontsize=LABEL_SIZE)  # type: ignore[attr-defined]
    axes.tick_params(labelsize=TICK_SIZE)  # type: ignore[attr-defined]
    axes.grid(axis="y", alpha=0.3)  # type: ignore[attr-defined]
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # type: ignore[attr-defined]
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)  # type: ignore[attr-defined]


def _day_labels(report: Report, label: Label) -> list[str]:
    days = [day for day, _ in report.volume.by_day]
    step = max(1, len(days) // 10)
    return [label.day(day) if i % step == 0 else "" for i, day in enumerate(days)]


def volume_chart(report: Report, label: Label, category_titles: Mapping[str, str]) -> Chart:
    """Tickets created per day, stacked by category (the biggest ones, the rest as "other")."""
    figure = _figure()
    axes = figure.add_subplot()
    totals = report.volume.by_category
    shown = list(totals)[:CATEGORIES_SHOWN]
    rows = report.volume.by_day_category
    positions = list(range(len(rows)))
    bottom = [0] * len(rows)
    series: list[tuple[str, list[int]]] = [
        (category_titles.get(c, c), [day.get(c, 0) for _, day in rows]) for c in shown
    ]
    rest = [sum(n for c, n in day.items() if c not in shown) for _, day in rows]
    if any(rest):
        series.append((label("stats.chart.other"), rest))
    for index, (name, values) in enumerate(series):
        axes.bar(positions, values, bottom=bottom, label=name, color=PALETTE[index % len(PALETTE)])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(positions, _day_labels(report, label))
    _style(axes, label("stats.chart.volume"), label("stats.chart.tickets"))
    if series:
        axes.legend(fontsize=LEGEND_SIZE, loc="upper left")
    return Chart("volume.png", _png(figure))


def _distribution(
    name: str, title: str, buckets: Mapping[str, int], level: Share, label: Label
) -> Chart:
    figure = _figure()
    axes = figure.add_subplot()
    names = [bucket for bucket, _ in BUCKETS]
    values = [buckets.get(bucket, 0) for bucket in names]
    axes.bar(
        [label(f"stats.chart.bucket.{i}") for i in range(len(names))], values, color=PALETTE[0]
    )
    for x, value in enumerate(values):
        if value:
            axes.annotate(str(value), (x, value), ha="center", va="bottom", fontsize=TICK_SIZE)
    _style(axes, title, label("stats.chart.tickets"))
    axes.set_xlabel(
        label(
            "stats.chart.within_target",
            percent="—" if level.share is None else f"{round(100 * level.share)}%",
            met=level.met,
            total=level.total,
        ),
        fontsize=LABEL_SIZE,
        color=MET if (level.share or 0) >= 0.9 else MISSED,
    )
    return Chart(name, _png(figure))


def csat_chart(report: Report, label: Label) -> Chart:
    """CSAT per day (line, %) over the number of ratings per day (bars)."""
    figure = _figure()
    axes = figure.add_subplot()
    days = report.satisfaction.by_day
    positions = list(range(len(days)))
    axes.bar(
        positions, [n for _, _, n in days], color="#d3d3d3", label=label("stats.chart.ratings")
    )
    _style(axes, label("stats.chart.csat"), label("stats.chart.ratings"))
    axes.set_xticks(positions, _day_labels(report, label))
    trend = figure.axes[0].twinx()
    points = [
        (x, 100 * csat) for x, (_, csat, _) in zip(positions, days, strict=True) if csat is not None
    ]
    if points:
        trend.plot(
            [x for x, _ in points],
            [y for _, y in points],
            color=PALETTE[0],
            marker="o",
            linewidth=3,
        )
    trend.set_ylim(0, 105)
    trend.set_ylabel("CSAT, %", fontsize=LABEL_SIZE)
    trend.tick_params(labelsize=TICK_SIZE)
    return Chart("csat.png", _png(figure))


def backlog_chart(report: Report, label: Label) -> Chart:
    figure = _figure()
    axes = figure.add_subplot()
    names = [name for name, _ in AGE_BUCKETS]
    values = [report.backlog.by_age.get(name, 0) for name in names]
    colours = [PALETTE[2], PALETTE[5], PALETTE[1], MISSED]
    axes.bar([label(f"stats.chart.age.{i}") for i in range(len(names))], values, color=colours)
    for x, value in enumerate(values):
        if value:
            axes.annotate(str(value), (x, value), ha="center", va="bottom", fontsize=TICK_SIZE)
    _style(
        axes, label("stats.chart.backlog", total=report.backlog.total), label("stats.chart.tickets")
    )
    return Chart("backlog.png", _png(figure))


def render_charts(
    report: Report, label: Label, category_titles: Mapping[str, str]
) -> Sequence[Chart]:
    """The album: volume by day and category, the two time distributions, CSAT, backlog."""
    levels = report.service_levels
    return [
        volume_chart(report, label, category_titles),
        _distribution(
            "first_response.png",
            label("stats.chart.first_response"),
            report.first_response.calendar.buckets,
            levels.first_response,
            label,
        ),
        _distribution(
            "resolution.png",
            label("stats.chart.resolution"),
            report.resolution.calendar.buckets,
            levels.resolution,
            label,
        ),
        csat_chart(report, label),
        backlog_chart(report, label),
    ]
