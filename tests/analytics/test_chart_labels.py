from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.sla import SlaPolicy
from bot.locales.catalog import LOCALES_DIR
from bot.services.analytics.charts import volume_chart
from bot.services.analytics.metrics import Counts, Report, ReportBuilder
from bot.services.analytics.text import CatalogLabel
from tests.analytics.history import WEEK

MOSCOW = ZoneInfo("Europe/Moscow")


class Recording:
    """The staff's chart labels, remembering each day written on an axis."""

    def __init__(self, locale: str) -> None:
        self.label = CatalogLabel(LOCALES_DIR, "ru", locale)
        self.days: list[str] = []

    def __call__(self, key: str, /, **params: Any) -> str:
        return self.label(key, **params)

    def day(self, day: date) -> str:
        self.days.append(self.label.day(day))
        return self.days[-1]


def _quiet_week() -> Report:
    start, end = WEEK.bounds(MOSCOW)
    previous, _ = WEEK.previous().bounds(MOSCOW)
    nothing: dict[Any, int] = {}
    counts = Counts(
        created_by=nothing,
        created_by_day=nothing,
        previous_created=0,
        resolved=0,
        previous_resolved=0,
        reopened=0,
        reopened_not_helped=0,
        reopened_low_rating=0,
        backlog=[],
        surveys_sent=0,
        surveys_answered=0,
        ratings_by=nothing,
        ratings_by_day=nothing,
        low_ratings=[],
        decisions=nothing,
        causes=nothing,
        previous_causes=nothing,
        kb_asked=0,
        kb_answered=0,
        kb_helpful=0,
        kb_unanswered=[],
    )
    builder = ReportBuilder(
        SlaPolicy.from_config(), MOSCOW, start=start, end=end, previous_start=previous, now=end
    )
    return builder.build([], counts, first=WEEK.first, last=WEEK.last, breakdown=None)


def test_chart_days_are_written_the_way_the_staff_language_writes_them() -> None:
    report = _quiet_week()
    for locale, days in (
        (
            "ru",
            ["16 нояб.", "17 нояб.", "18 нояб.", "19 нояб.", "20 нояб.", "21 нояб.", "22 нояб."],
        ),
        ("en", ["Nov 16", "Nov 17", "Nov 18", "Nov 19", "Nov 20", "Nov 21", "Nov 22"]),
    ):
        label = Recording(locale)
        volume_chart(report, label, {})
        assert label.days == days
