"""The support team's working hours: which local days are open, and from when to when.

Pure domain code: standard library and :mod:`zoneinfo` only, no I/O. Hours, weekdays and
holidays are read in the calendar's time zone; every interval it returns is aware UTC. On a
day whose working hours contain a DST switch the day is an hour shorter or longer (with the
usual 09:00-18:00 hours this never happens: switches take place at night).

For the arithmetic on business time (:mod:`bot.domain.service_time`) each calendar keeps an
index of working intervals and cumulative business time per local date, grown on demand.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.calendar_settings import (
    MIDNIGHT,
    parse_business_hours,
    parse_holidays,
    parse_timezone,
    parse_weekdays,
)

__all__ = ["DEFAULT_TIMEZONE", "INDEX_STEP_DAYS", "BusinessCalendar", "DayIndex", "Interval"]

DEFAULT_TIMEZONE = "Europe/Moscow"

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
# The index grows in steps of INDEX_STEP_DAYS. Spans wider than _INDEX_MAX_DAYS (far beyond
# any ticket's life) are not indexed: the arithmetic goes day by day instead.
INDEX_STEP_DAYS = 183
_INDEX_MAX_DAYS = 10_000

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours of the support team in one time zone.

    ``work_end`` equal to ``time(0)`` means midnight at the end of the day (24:00), so
    ``time(0)``-``time(0)`` is a full day. Overnight hours (end before start) are not
    supported. ``weekdays`` uses Monday = 0 ... Sunday = 6; ``holidays`` are local dates.
    """

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    work_start: time = time(9)
    work_end: time = time(18)
    weekdays: AbstractSet[int] = frozenset(range(5))
    holidays: AbstractSet[date] = frozenset()
    _index: DayIndex | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, ZoneInfo):
            raise ValueError(f"timezone must be a ZoneInfo, got {self.timezone!r}")
        for name, value in (("work_start", self.work_start), ("work_end", self.work_end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive datetime.time, got {value!r}")
        if self.work_end != MIDNIGHT and self.work_end <= self.work_start:
            raise ValueError(
                f"working hours must end after they start, got "
                f"{self.work_start:%H:%M}-{self.work_end:%H:%M} (overnight hours are not supported)"
            )
        weekdays = frozenset(self.weekdays)
        if not weekdays:
            raise ValueError("at least one working weekday is required")
        bad = sorted(d for d in weekdays if not isinstance(d, int) or not 0 <= d <= 6)
        if bad:
            raise ValueError(f"weekdays must be integers 0 (Monday) to 6 (Sunday), got {bad}")
        holidays = frozenset(self.holidays)
        for day in holidays:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"holidays must be dates, got {day!r}")
        object.__setattr__(self, "weekdays", weekdays)
        object.__setattr__(self, "holidays", holidays)

    @classmethod
    def from_config(
        cls,
        *,
        business_hours: str | None = None,
        weekdays: str | None = None,
        holidays: Iterable[str | date] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> BusinessCalendar:
        """Build a calendar from plain config values; ``None`` keeps the default."""
        kwargs: dict[str, object] = {"timezone": parse_timezone(timezone)}
        if business_hours is not None:
            kwargs["work_start"], kwargs["work_end"] = parse_business_hours(business_hours)
        if weekdays is not None:
            kwargs["weekdays"] = parse_weekdays(weekdays)
        if holidays is not None:
            kwargs["holidays"] = parse_holidays(holidays)
        return cls(**kwargs)  # type: ignore[arg-type]

    def working_interval(self, day: date) -> Interval | None:
        """Working hours of local ``day`` as aware UTC ``(start, end)``, or None if closed."""
        index = self._index
        if index is not None:
            offset = (day - index.first).days
            if 0 <= offset < len(index.intervals):
                return index.intervals[offset]
        return self._compute_interval(day)

    def _compute_interval(self, day: date) -> Interval | None:
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        opens = datetime.combine(day, self.work_start, tzinfo=self.timezone)
        end_day = day + ONE_DAY if self.work_end == MIDNIGHT else day
        closes = datetime.combine(end_day, self.work_end, tzinfo=self.timezone)
        opens_utc, closes_utc = opens.astimezone(UTC), closes.astimezone(UTC)
        # Only empty when the hours fall inside a skipped DST hour.
        return (opens_utc, closes_utc) if closes_utc > opens_utc else None

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.timezone).date()

    def day_index(self, first: date, last: date) -> DayIndex | None:
        """An index covering local dates ``first`` to ``last``; None if that is too wide.

        Indexes are immutable snapshots: a wider one replaces the attribute, so concurrent
        readers always see a consistent index.
        """
        index = self._index
        if index is not None and index.first <= first and last <= index.last:
            return index
        step = timedelta(days=INDEX_STEP_DAYS)
        if index is None:
            first, last = first - step, last + step
        else:
            first = index.first if first >= index.first else min(first, index.first - step)
            last = index.last if last <= index.last else max(last, index.last + step)
        size = (last - first).days + 1
        if size > _INDEX_MAX_DAYS:
            return None
        intervals = [self.working_interval(first + timedelta(days=i)) for i in range(size)]
        cumulative = [ZERO]
        total = ZERO
        for interval in intervals:
            if interval is not None:
                total += interval[1] - interval[0]
            cumulative.append(total)
        index = DayIndex(first, last, intervals, cumulative)
        object.__setattr__(self, "_index", index)
        return index


@dataclass(frozen=True, slots=True)
class DayIndex:
    """Working intervals of consecutive local dates and business time before each of them."""

    first: date
    last: date
    intervals: list[Interval | None]
    cumulative: list[timedelta]  # cumulative[i]: business time of days first .. first+i-1

    def position(self, instant: datetime, day: date) -> timedelta:
        """Business time from the start of ``first`` to ``instant`` (local date ``day``)."""
        offset = (day - self.first).days
        interval = self.intervals[offset]
        before = self.cumulative[offset]
        if interval is None or instant <= interval[0]:
            return before
        if instant >= interval[1]:
            return self.cumulative[offset + 1]
        return before + (instant - interval[0])
