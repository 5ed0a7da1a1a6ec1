"""Arithmetic on service time: adding it to an instant, and measuring it between two.

Pure domain code, no I/O. Every instant passed in must be timezone-aware; every instant
returned is aware UTC. Service time is wall-clock time when no calendar is given, otherwise
business time: only the working hours of a :class:`BusinessCalendar` count, and business
time is real elapsed time inside them.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime, timedelta

from bot.domain.business_calendar import INDEX_STEP_DAYS, ONE_DAY, ZERO, BusinessCalendar

__all__ = ["add_service_time", "require_aware", "service_time_between"]


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC, or raise ``ValueError`` if it is naive."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def require_non_negative(value: timedelta, name: str) -> None:
    if value < ZERO:
        raise ValueError(f"{name} must not be negative, got {value}")


def add_service_time(
    start: datetime, duration: timedelta, *, calendar: BusinessCalendar | None
) -> datetime:
    """The earliest instant at which ``duration`` of service time has passed since ``start``.

    Without a calendar this is plain elapsed (wall-clock) time. With a calendar only business
    time counts: a start outside working hours begins counting at the next opening, weekends
    and holidays are skipped, and a due time that falls exactly at closing time is that
    closing time (not the next opening). A zero duration returns ``start``.

    Runs in logarithmic time over a per-calendar index of working days (no stepping minute
    by minute or even day by day once the index is built). Returns an aware UTC datetime; raises
    ``ValueError`` for a naive ``start`` or a negative ``duration``.
    """
    cursor = require_aware(start, "start")
    require_non_negative(duration, "duration")
    if calendar is None or duration == ZERO:
        return cursor + duration
    day = calendar.local_date(cursor)
    index = calendar.day_index(day, day)
    growth = INDEX_STEP_DAYS
    while True:
        if index is None:
            return _add_day_by_day(cursor, duration, calendar)
        target = index.position(cursor, day) + duration
        if target <= index.cumulative[-1]:
            break
        index = calendar.day_index(day, index.last + timedelta(days=growth))
        growth *= 2
    # The first local date by whose end the target is reached; its interval is not empty.
    offset = bisect_left(index.cumulative, target) - 1
    interval = index.intervals[offset]
    assert interval is not None
    return interval[0] + (target - index.cumulative[offset])


def service_time_between(
    start: datetime, end: datetime, *, calendar: BusinessCalendar | None
) -> timedelta:
    """Service time elapsed from ``start`` to ``end`` (zero if ``end`` is not after ``start``).

    The inverse of :func:`add_service_time`:
    ``service_time_between(s, add_service_time(s, d, calendar=c), calendar=c) == d``.
    """
    lo = require_aware(start, "start")
    hi = require_aware(end, "end")
    if hi <= lo:
        return ZERO
    if calendar is None:
        return hi - lo
    first, last = calendar.local_date(lo), calendar.local_date(hi)
    index = calendar.day_index(first, last)
    if index is None:
        return _between_day_by_day(lo, hi, calendar)
    return index.position(hi, last) - index.position(lo, first)


def _add_day_by_day(cursor: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    remaining = duration
    day = calendar.local_date(cursor)
    while True:
        interval = calendar.working_interval(day)
        if interval is not None and cursor < interval[1]:
            opens, closes = interval
            if cursor < opens:
                cursor = opens
            available = closes - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            cursor = closes
        day += ONE_DAY


def _between_day_by_day(lo: datetime, hi: datetime, calendar: BusinessCalendar) -> timedelta:
    total = ZERO
    day = calendar.local_date(lo)
    last = calendar.local_date(hi)
    while day <= last:
        interval = calendar.working_interval(day)
        if interval is not None:
            opens, closes = interval
            span = min(closes, hi) - max(opens, lo)
            if span > ZERO:
                total += span
        day += ONE_DAY
    return total
