"""Report periods: whole local days in the business time zone, and how people name them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PRESETS = ("today", "7d", "30d", "this_month", "last_month")
MAX_DAYS = 366 * 3
_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:\.\.|–|—)\s*(\d{4}-\d{2}-\d{2})\s*$")
_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*$")


class PeriodError(ValueError):
    """A period that cannot be read; the message says what was wrong."""


@dataclass(frozen=True, slots=True)
class Period:
    """The local dates ``first`` to ``last`` (both included) in the business time zone."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(f"the period ends ({self.last}) before it starts ({self.first})")
        if self.days > MAX_DAYS:
            raise PeriodError(f"a period is at most {MAX_DAYS} days, got {self.days}")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """``[start, end)`` in aware UTC: local midnight of ``first`` to that after ``last``."""
        start = datetime.combine(self.first, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start, end.astimezone(UTC)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.days)]

    @property
    def label(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def preset(name: str, today: date) -> Period:
    """``today``, ``7d`` / ``30d`` (ending today), ``this_month``, ``last_month``."""
    if name == "today":
        return Period(today, today)
    if name == "7d":
        return Period(today - timedelta(days=6), today)
    if name == "30d":
        return Period(today - timedelta(days=29), today)
    if name == "this_month":
        return Period(today.replace(day=1), today)
    if name == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last)
    raise PeriodError(f"unknown period {name!r}; use one of {', '.join(PRESETS)}")


def parse_period(text: str, today: date) -> Period:
    """A preset name, one ISO date, or ``2026-11-01..2026-11-15``."""
    value = text.strip().lower()
    if value in PRESETS:
        return preset(value, today)
    match = _RANGE.match(value) or _DAY.match(value)
    if match is None:
        raise PeriodError(f"cannot read the period {text!r}; write it like 2026-11-01..2026-11-15")
    try:
        first = date.fromisoformat(match.group(1))
        last = date.fromisoformat(match.group(match.lastindex or 1))
    except ValueError as error:
        raise PeriodError(f"not a date in {text!r}: {error}") from None
    return Period(first, last)


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()
