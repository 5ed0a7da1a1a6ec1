"""Service levels: when the targets of a ticket fall due, in wall-clock or business time.

Pure domain code: standard library and :mod:`zoneinfo` only, no I/O.

Time model
----------
* Every instant passed in must be timezone-aware; every instant returned is aware UTC.
* A *service-time* span is either wall-clock time (no calendar) or business time (a
  :class:`BusinessCalendar`). Business time is counted only inside working hours on working
  days that are not holidays, all read in the calendar's time zone.
* Business time is real elapsed time: on a day whose working hours contain a DST switch the
  day is an hour shorter or longer. With the usual 09:00-18:00 hours this never happens,
  because switches take place at night.
* A business-time target of N hours counts N business hours, never calendar days: with
  09:00-18:00 hours a 45 h target is five working days, and the default low-priority
  resolution target of 5 days (120 h) is 13 working days and 3 hours.
* Due times are computed by :func:`compute_due` from the ticket's facts (``opened_at``,
  priority, accumulated pause, ``first_response_at``) as
  ``add_service_time(opened_at, target + paused)``; the caller stores them on the ticket and
  computes them again whenever one of those facts changes.

Pauses
------
Time spent waiting for the customer is measured by the caller in service time, i.e. with
``service_time_between(paused_at, resumed_at, calendar=policy.service_calendar)``, and
accumulated; it pushes the resolution due time later. A pause that is still running can be
passed as ``paused_since`` and is counted up to ``now``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_TARGETS",
    "DEFAULT_TIMEZONE",
    "PRIORITIES",
    "BusinessCalendar",
    "DueTimes",
    "SlaPolicy",
    "SlaTarget",
    "add_service_time",
    "compute_due",
    "parse_business_hours",
    "parse_holidays",
    "parse_weekdays",
    "service_time_between",
]

DEFAULT_TIMEZONE = "Europe/Moscow"
DEFAULT_WARN_FRACTION = 0.75
PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
# Each calendar keeps an index of working intervals and cumulative business time per local
# date, grown on demand in steps of _INDEX_STEP_DAYS. Spans wider than _INDEX_MAX_DAYS (far
# beyond any ticket's life) are computed day by day instead of indexed.
_INDEX_STEP_DAYS = 183
_INDEX_MAX_DAYS = 10_000

_WEEKDAY_NAMES: dict[str, int] = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$")


# --------------------------------------------------------------------------- helpers


def _require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC, or raise ``ValueError`` if it is naive."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _require_non_negative(value: timedelta, name: str) -> None:
    if value < _ZERO:
        raise ValueError(f"{name} must not be negative, got {value}")


def _priority_key(priority: str) -> str:
    """Normalise a priority given as a string or a string-valued enum member."""
    value = getattr(priority, "value", priority)
    if not isinstance(value, str):
        raise ValueError(f"priority must be a string, got {priority!r}")
    return value.strip().lower()


# --------------------------------------------------------------------------- calendar


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
    _index: _DayIndex | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, ZoneInfo):
            raise ValueError(f"timezone must be a ZoneInfo, got {self.timezone!r}")
        for name, value in (("work_start", self.work_start), ("work_end", self.work_end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive datetime.time, got {value!r}")
        if self.work_end != _MIDNIGHT and self.work_end <= self.work_start:
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
        kwargs: dict[str, object] = {"timezone": _parse_timezone(timezone)}
        if business_hours is not None:
            kwargs["work_start"], kwargs["work_end"] = parse_business_hours(business_hours)
        if weekdays is not None:
            kwargs["weekdays"] = parse_weekdays(weekdays)
        if holidays is not None:
            kwargs["holidays"] = parse_holidays(holidays)
        return cls(**kwargs)  # type: ignore[arg-type]

    def working_interval(self, day: date) -> _Interval | None:
        """Working hours of local ``day`` as aware UTC ``(start, end)``, or None if closed."""
        index = self._index
        if index is not None:
            offset = (day - index.first).days
            if 0 <= offset < len(index.intervals):
                return index.intervals[offset]
        return self._compute_interval(day)

    def _compute_interval(self, day: date) -> _Interval | None:
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        opens = datetime.combine(day, self.work_start, tzinfo=self.timezone)
        end_day = day + _ONE_DAY if self.work_end == _MIDNIGHT else day
        closes = datetime.combine(end_day, self.work_end, tzinfo=self.timezone)
        opens_utc, closes_utc = opens.astimezone(UTC), closes.astimezone(UTC)
        # Only empty when the hours fall inside a skipped DST hour.
        return (opens_utc, closes_utc) if closes_utc > opens_utc else None

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.timezone).date()

    def _index_covering(self, first: date, last: date) -> _DayIndex | None:
        """An index covering local dates ``first`` to ``last``; None if that is too wide.

        Indexes are immutable snapshots: a wider one replaces the attribute, so concurrent
        readers always see a consistent index.
        """
        index = self._index
        if index is not None and index.first <= first and last <= index.last:
            return index
        step = timedelta(days=_INDEX_STEP_DAYS)
        if index is None:
            first, last = first - step, last + step
        else:
            first = index.first if first >= index.first else min(first, index.first - step)
            last = index.last if last <= index.last else max(last, index.last + step)
        size = (last - first).days + 1
        if size > _INDEX_MAX_DAYS:
            return None
        intervals = [self.working_interval(first + timedelta(days=i)) for i in range(size)]
        cumulative = [_ZERO]
        total = _ZERO
        for interval in intervals:
            if interval is not None:
                total += interval[1] - interval[0]
            cumulative.append(total)
        index = _DayIndex(first, last, intervals, cumulative)
        object.__setattr__(self, "_index", index)
        return index


_Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class _DayIndex:
    """Working intervals of consecutive local dates and business time before each of them."""

    first: date
    last: date
    intervals: list[_Interval | None]
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


def _parse_timezone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"time zone must be an IANA name like 'Europe/Moscow', got {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: expected an IANA name like 'Europe/Moscow'"
        ) from exc


def parse_business_hours(text: str) -> tuple[time, time]:
    """Parse ``"09:00-18:00"`` into ``(time(9), time(18))``.

    ``24:00`` (or ``00:00``) as the end means midnight at the end of the day and is returned
    as ``time(0)``. Overnight hours such as ``"22:00-06:00"`` are rejected.
    """
    match = _HOURS_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"business hours must look like '09:00-18:00', got {text!r}")
    sh, sm, eh, em = (int(part) for part in match.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em != 0):
        raise ValueError(f"business hours contain an invalid time: {text!r}")
    start = time(sh, sm)
    end = _MIDNIGHT if eh == 24 else time(eh, em)
    if end != _MIDNIGHT and end <= start:
        raise ValueError(
            f"business hours must end after they start, got {text!r} "
            "(overnight hours are not supported)"
        )
    return start, end


def _weekday(name: str, source: str) -> int:
    try:
        return _WEEKDAY_NAMES[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"unknown weekday {name.strip()!r} in {source!r}: use mon, tue, wed, thu, fri, sat, sun"
        ) from None


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse ``"mon-fri"``, ``"mon,tue,wed"`` or ``"mon-wed,fri"`` into weekday numbers.

    Ranges may wrap around the week (``"sat-mon"`` is Saturday, Sunday, Monday).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"weekdays must look like 'mon-fri' or 'mon,tue,wed', got {text!r}")
    days: set[int] = set()
    for item in text.split(","):
        if not item.strip():
            raise ValueError(f"empty weekday in {text!r}")
        first, sep, last = item.partition("-")
        start = _weekday(first, text)
        if not sep:
            days.add(start)
            continue
        end = _weekday(last, text)
        span = (end - start) % 7
        days.update((start + offset) % 7 for offset in range(span + 1))
    return frozenset(days)


def parse_holidays(values: Iterable[str | date]) -> frozenset[date]:
    """Parse ISO dates (``"2025-01-01"``); ``date`` objects are accepted as they are."""
    if isinstance(values, str):
        raise ValueError("holidays must be a list of ISO dates, not a single string")
    result: set[date] = set()
    for value in values:
        if isinstance(value, date) and not isinstance(value, datetime):
            result.add(value)
            continue
        try:
            result.add(date.fromisoformat(str(value).strip()))
        except ValueError:
            raise ValueError(f"invalid holiday date {value!r}: expected YYYY-MM-DD") from None
    return frozenset(result)


# --------------------------------------------------------------------------- arithmetic


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
    cursor = _require_aware(start, "start")
    _require_non_negative(duration, "duration")
    if calendar is None or duration == _ZERO:
        return cursor + duration
    day = calendar._local_date(cursor)
    index = calendar._index
    if index is None or not index.first <= day <= index.last:
        index = calendar._index_covering(day, day)
    growth = _INDEX_STEP_DAYS
    while True:
        if index is None:
            return _add_day_by_day(cursor, duration, calendar)
        target = index.position(cursor, day) + duration
        if target <= index.cumulative[-1]:
            break
        index = calendar._index_covering(day, index.last + timedelta(days=growth))
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
    lo = _require_aware(start, "start")
    hi = _require_aware(end, "end")
    if hi <= lo:
        return _ZERO
    if calendar is None:
        return hi - lo
    first, last = calendar._local_date(lo), calendar._local_date(hi)
    index = calendar._index_covering(first, last)
    if index is None:
        return _between_day_by_day(lo, hi, calendar)
    return index.position(hi, last) - index.position(lo, first)


def _add_day_by_day(cursor: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    remaining = duration
    day = calendar._local_date(cursor)
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
        day += _ONE_DAY


def _between_day_by_day(lo: datetime, hi: datetime, calendar: BusinessCalendar) -> timedelta:
    total = _ZERO
    day = calendar._local_date(lo)
    last = calendar._local_date(hi)
    while day <= last:
        interval = calendar.working_interval(day)
        if interval is not None:
            opens, closes = interval
            span = min(closes, hi) - max(opens, lo)
            if span > _ZERO:
                total += span
        day += _ONE_DAY
    return total


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class SlaTarget:
    """Service-time allowances for one priority."""

    first_response: timedelta
    resolution: timedelta

    def __post_init__(self) -> None:
        for name in ("first_response", "resolution"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value <= _ZERO:
                raise ValueError(f"{name} target must be a positive timedelta, got {value!r}")

    @classmethod
    def from_hours(cls, first_response: float, resolution: float) -> SlaTarget:
        return cls(timedelta(hours=first_response), timedelta(hours=resolution))


DEFAULT_TARGETS: Mapping[str, SlaTarget] = MappingProxyType(
    {
        "urgent": SlaTarget(timedelta(hours=1), timedelta(hours=8)),
        "high": SlaTarget(timedelta(hours=4), timedelta(hours=24)),
        "normal": SlaTarget(timedelta(hours=24), timedelta(hours=48)),
        "low": SlaTarget(timedelta(hours=48), timedelta(days=5)),
    }
)


def _freeze_targets(targets: Mapping[str, SlaTarget]) -> Mapping[str, SlaTarget]:
    frozen: dict[str, SlaTarget] = {}
    for key, target in targets.items():
        name = _priority_key(key)
        if not name:
            raise ValueError("priority names in SLA targets must not be empty")
        if not isinstance(target, SlaTarget):
            raise ValueError(f"SLA target for {name!r} must be an SlaTarget, got {target!r}")
        frozen[name] = target
    return MappingProxyType(frozen)


def _target_from_hours(priority: str, value: object) -> SlaTarget:
    message = (
        f"SLA target for {priority!r} must be two positive numbers of hours "
        f"(first response, resolution), got {value!r}"
    )
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(message)
    hours: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ValueError(message)
        if not math.isfinite(item) or item <= 0:
            raise ValueError(message)
        hours.append(float(item))
    return SlaTarget.from_hours(hours[0], hours[1])


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority and how service time is counted.

    With ``business_time_only`` the targets count business hours of ``calendar`` (a target
    of N hours is N business hours, see the module docstring); otherwise wall-clock time.
    ``warn_fraction`` is the share of a target after which the sweep warns the desk.
    """

    targets: Mapping[str, SlaTarget] = field(default_factory=lambda: DEFAULT_TARGETS, hash=False)
    business_time_only: bool = False
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    warn_fraction: float = DEFAULT_WARN_FRACTION

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", _freeze_targets(self.targets))
        if not isinstance(self.calendar, BusinessCalendar):
            raise ValueError(f"calendar must be a BusinessCalendar, got {self.calendar!r}")
        if (
            isinstance(self.warn_fraction, bool)
            or not isinstance(self.warn_fraction, int | float)
            or not 0 < self.warn_fraction < 1
        ):
            raise ValueError(
                f"warn_fraction must be a number between 0 and 1 (exclusive), "
                f"got {self.warn_fraction!r}"
            )

    @classmethod
    def from_config(
        cls,
        *,
        targets: Mapping[str, Sequence[float]] | None = None,
        business_hours: str | None = None,
        weekdays: str | None = None,
        holidays: Iterable[str | date] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        business_time_only: bool = False,
        warn_fraction: float = DEFAULT_WARN_FRACTION,
    ) -> SlaPolicy:
        """Build a policy from plain config values.

        ``targets`` maps a priority (urgent, high, normal, low) to ``(first response hours,
        resolution hours)``; priorities left out keep their defaults. ``business_hours`` is
        like ``"09:00-18:00"``, ``weekdays`` like ``"mon-fri"`` or ``"mon,tue,wed"``,
        ``holidays`` a list of ISO dates, ``timezone`` an IANA name. ``None`` keeps the
        default. Bad input raises ``ValueError`` naming the offending value.
        """
        merged = dict(DEFAULT_TARGETS)
        for key, value in (targets or {}).items():
            name = _priority_key(key)
            if name not in PRIORITIES:
                raise ValueError(
                    f"unknown priority {key!r} in SLA targets: expected one of "
                    f"{', '.join(PRIORITIES)}"
                )
            merged[name] = _target_from_hours(name, value)
        calendar = BusinessCalendar.from_config(
            business_hours=business_hours,
            weekdays=weekdays,
            holidays=holidays,
            timezone=timezone,
        )
        return cls(
            targets=merged,
            business_time_only=business_time_only,
            calendar=calendar,
            warn_fraction=warn_fraction,
        )

    @property
    def service_calendar(self) -> BusinessCalendar | None:
        """The calendar service time is counted in, or None for wall-clock time."""
        return self.calendar if self.business_time_only else None

    def target_for(self, priority: str) -> SlaTarget:
        """Targets of ``priority`` (a string or string-valued enum member)."""
        name = _priority_key(priority)
        try:
            return self.targets[name]
        except KeyError:
            raise ValueError(
                f"no SLA target for priority {name!r}: known priorities are "
                f"{', '.join(self.targets)}"
            ) from None


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class DueTimes:
    """When the targets of one ticket fall due (aware UTC)."""

    first_response_due: datetime | None
    resolution_due: datetime


def _check_facts(opened_at: datetime, now: datetime, first_response_at: datetime | None) -> None:
    _require_aware(opened_at, "opened_at")
    _require_aware(now, "now")
    if first_response_at is not None:
        _require_aware(first_response_at, "first_response_at")


def _total_pause(
    policy: SlaPolicy, paused: timedelta, paused_since: datetime | None, now: datetime
) -> timedelta:
    _require_non_negative(paused, "paused")
    if paused_since is None:
        return paused
    return paused + service_time_between(paused_since, now, calendar=policy.service_calendar)


def compute_due(
    policy: SlaPolicy,
    *,
    priority: str,
    opened_at: datetime,
    now: datetime,
    paused: timedelta = _ZERO,
    first_response_at: datetime | None = None,
    paused_since: datetime | None = None,
) -> DueTimes:
    """Due times of a ticket from its facts, to be stored on it (and computed again when a
    fact changes).

    ``paused`` is the accumulated service time spent waiting for the customer; it moves the
    resolution due time later. ``paused_since`` marks a pause still running at ``now``
    (counted up to ``now``). The first-response due time is None once ``first_response_at``
    is set; it is never paused (a pause starts only after staff asked something).
    """
    _check_facts(opened_at, now, first_response_at)
    target = policy.target_for(priority)
    calendar = policy.service_calendar
    pause = _total_pause(policy, paused, paused_since, now)
    first_due = (
        None
        if first_response_at is not None
        else add_service_time(opened_at, target.first_response, calendar=calendar)
    )
    resolution_due = add_service_time(opened_at, target.resolution + pause, calendar=calendar)
    return DueTimes(first_response_due=first_due, resolution_due=resolution_due)
