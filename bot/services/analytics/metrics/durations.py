"""Times of tickets: service time, the statistics of a set of times, and targets met."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.domain.business_calendar import BusinessCalendar
from bot.domain.service_time import service_time_between
from bot.domain.sla import SlaPolicy
from bot.services.analytics.metrics.facts import TicketTimes
from bot.services.analytics.metrics.results import DurationStats

HOUR = 3600.0
BUCKETS: tuple[tuple[str, float], ...] = (
    ("<1h", 1),
    ("1-4h", 4),
    ("4-8h", 8),
    ("8-24h", 24),
    ("24-48h", 48),
    (">48h", math.inf),
)
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("<1d", 1),
    ("1-3d", 3),
    ("3-7d", 7),
    (">7d", math.inf),
)


def median(sorted_values: Sequence[float]) -> float | None:
    n = len(sorted_values)
    if n == 0:
        return None
    middle = n // 2
    if n % 2:
        return sorted_values[middle]
    return (sorted_values[middle - 1] + sorted_values[middle]) / 2


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Nearest rank: the smallest value that at least ``fraction`` of the values do not exceed."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, math.ceil(fraction * n - 1e-9))
    return sorted_values[rank - 1]


def bucket_of(hours: float, buckets: Sequence[tuple[str, float]] = BUCKETS) -> str:
    for name, upper in buckets:
        if hours < upper:
            return name
    return buckets[-1][0]


def duration_stats(hours: Iterable[float]) -> DurationStats:
    values = sorted(hours)
    counts = dict.fromkeys((name for name, _ in BUCKETS), 0)
    # The values are sorted: each bucket is the run of values below its upper bound.
    position = 0
    for name, upper in BUCKETS:
        start = position
        while position < len(values) and values[position] < upper:
            position += 1
        counts[name] = position - start
    return DurationStats(
        count=len(values),
        median=median(values),
        p90=percentile(values, 0.9),
        mean=sum(values) / len(values) if values else None,
        buckets=counts,
    )


_ZERO = timedelta(0)


def _span(start: datetime, end: datetime, calendar: BusinessCalendar | None) -> timedelta:
    """Service time; calendar time is plain subtraction (the common case, kept fast)."""
    if calendar is None:
        return end - start if end > start else _ZERO
    return service_time_between(start, end, calendar=calendar)


class TicketClock:
    """Service time of tickets in calendar time and, optionally, business time."""

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        self.business: BusinessCalendar | None = policy.service_calendar
        self._targets: dict[str, tuple[float, float]] = {}

    def first_response(self, ticket: TicketTimes, calendar: BusinessCalendar | None) -> float:
        assert ticket.first_response_at is not None
        return _span(ticket.created_at, ticket.first_response_at, calendar).total_seconds() / HOUR

    def working(
        self, ticket: TicketTimes, until: datetime, calendar: BusinessCalendar | None
    ) -> float:
        """Service time from creation to ``until`` minus time waiting for the customer."""
        total = _span(ticket.created_at, until, calendar)
        for start, stop in ticket.waiting:
            lo = max(start, ticket.created_at)
            hi = min(stop or until, until)
            if hi > lo:
                total -= _span(lo, hi, calendar)
        return max(total, _ZERO).total_seconds() / HOUR

    def resolution(self, ticket: TicketTimes, calendar: BusinessCalendar | None) -> float:
        moment = ticket.resolution_moment
        assert moment is not None
        return self.working(ticket, moment, calendar)

    def targets(self, ticket: TicketTimes) -> tuple[float, float]:
        hours = self._targets.get(ticket.priority)
        if hours is None:
            target = self.policy.target_for(ticket.priority)
            hours = self._targets[ticket.priority] = (
                target.first_response.total_seconds() / HOUR,
                target.resolution.total_seconds() / HOUR,
            )
        return hours

    def first_response_met(
        self, ticket: TicketTimes, as_of: datetime, open_then: bool, hours: float | None = None
    ) -> bool | None:
        """True / False once decided at ``as_of``: answered by then, or unanswered past the
        target while open (``open_then``); None while it may still be met. ``hours``: the
        first response time in the time the SLA counts in, when already known."""
        first_target, _ = self.targets(ticket)
        if ticket.first_response_at is not None and ticket.first_response_at <= as_of:
            if hours is None:
                hours = self.first_response(ticket, self.business)
            return hours <= first_target
        if not open_then:
            return None
        elapsed = _span(ticket.created_at, as_of, self.business).total_seconds() / HOUR
        return False if elapsed > first_target else None

    def resolution_met(
        self, ticket: TicketTimes, as_of: datetime, open_then: bool, hours: float | None = None
    ) -> bool | None:
        """Like `first_response_met` for the resolution (``hours``: the resolution time)."""
        _, resolution_target = self.targets(ticket)
        if open_then:
            working = self.working(ticket, as_of, self.business)
            return False if working > resolution_target else None
        if ticket.resolution_moment is not None:
            if hours is None:
                hours = self.resolution(ticket, self.business)
            return hours <= resolution_target
        return None
