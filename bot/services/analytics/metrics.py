"""Every figure of the supervisors' report, defined once (the README quotes these definitions).

Pure computation over plain facts loaded by `queries.py`: no I/O here, so the same code serves
SQLite and PostgreSQL, the bot, the command line and the tests.

Conventions
-----------
* A period is whole local days in `TIMEZONE`: ``[start, end)`` in UTC (see `periods.py`).
* ``as_of`` is the earlier of the period's end and now: what is "open" or "overdue" is judged
  then.
* A ticket's **resolution moment** is ``resolved_at`` (the last resolution: a reopen clears it),
  or ``closed_at`` for a ticket closed without a decision.
* **First response time**: service time from creation to the first answer of a person
  (``first_response_at``: a reply, a canned text or article sent by an agent, taking the
  ticket, or the decision; messages of the bot or the knowledge base never set it).
* **Resolution time**: service time from creation to the resolution moment, minus every
  stretch spent in ``waiting_customer`` (the SLA's pause).
* Service time is calendar time, and additionally business time of the SLA calendar when
  ``SLA_BUSINESS_TIME_ONLY`` is on; targets are judged in the time the SLA counts in.
* **Median**: the middle value of the sorted durations (the mean of the two middle ones for an
  even count). **p90**: nearest rank, the smallest duration that at least 90 % of the durations
  do not exceed (sorted[ceil(0.9 n) - 1]). **Mean**: arithmetic mean.
* **Buckets**: <1 h, 1-4 h, 4-8 h, 8-24 h, 24-48 h, >48 h; a bucket holds its lower bound
  (exactly 1 h is in 1-4 h).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.business_calendar import BusinessCalendar
from bot.domain.service_time import service_time_between
from bot.domain.sla import SlaPolicy

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
OPEN_STATUSES = ("new", "in_progress", "waiting_customer", "reopened")
DECISIONS = ("refund", "replacement", "compensation", "explanation", "apology", "rejected")
# A complaint is "found justified" when the decision gives the customer something or an apology.
JUSTIFIED = frozenset({"refund", "replacement", "compensation", "apology"})
LOW_RATING = 2
TOP_CAUSES = 10
LOW_RATINGS_SHOWN = 10
BREAKDOWNS = ("category", "team", "agent", "priority")


# --------------------------------------------------------------------------- facts


@dataclass(slots=True)
class TicketFacts:
    """What the report needs of one ticket (loaded by `queries.py`)."""

    id: int
    number: str
    created_at: datetime
    status: str
    priority: str
    category: str
    kind: str
    channel: str
    locale: str
    team: str | None
    assignee_id: int | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution_type: str | None
    root_cause: str | None
    rating: int | None
    rating_comment: str | None
    rated_at: datetime | None
    survey_sent_at: datetime | None
    # Stretches in waiting_customer, (start, end); end None while still waiting.
    waiting: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    reopens: int = 0

    @property
    def resolution_moment(self) -> datetime | None:
        if self.resolved_at is not None:
            return self.resolved_at
        if self.status == "closed":
            return self.closed_at
        return None


VolumeKey = tuple[str, str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Counts:
    """Figures aggregated in SQL (one statement each, the same on both databases)."""

    created_by: Mapping[VolumeKey, int]
    """(category, team, priority, kind, locale, channel) -> tickets created in the period."""
    created_by_day: Mapping[tuple[int, str], int]
    """(local day of the period, 0 for the first; category) -> tickets created."""
    previous_created: int
    resolved: int
    previous_resolved: int
    reopened: int
    reopened_not_helped: int
    reopened_low_rating: int
    backlog_statuses: Mapping[int, str]
    """Open tickets at ``as_of``: id -> status then."""
    previous_causes: Mapping[tuple[str, str], int]
    kb_asked: int
    kb_answered: int
    kb_helpful: int
    kb_unanswered: Sequence[tuple[str, int]]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Durations in hours."""

    count: int
    median: float | None
    p90: float | None
    mean: float | None
    buckets: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class TimeStats:
    calendar: DurationStats
    business: DurationStats | None  # only with SLA_BUSINESS_TIME_ONLY


@dataclass(frozen=True, slots=True)
class Change:
    current: int
    previous: int

    @property
    def delta(self) -> int:
        return self.current - self.previous

    @property
    def percent(self) -> float | None:
        """Change in percent of the previous value; None when there was nothing before."""
        if self.previous == 0:
            return None
        return 100.0 * (self.current - self.previous) / self.previous


@dataclass(frozen=True, slots=True)
class Volume:
    created: Change
    resolved: Change
    backlog_at_end: int
    by_day: Sequence[tuple[date, int]]
    by_day_category: Sequence[tuple[date, Mapping[str, int]]]
    by_category: Mapping[str, int]
    by_team: Mapping[str, int]
    by_priority: Mapping[str, int]
    by_kind: Mapping[str, int]
    by_language: Mapping[str, int]
    by_source: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Share:
    met: int
    total: int

    @property
    def share(self) -> float | None:
        return None if self.total == 0 else self.met / self.total

    @property
    def breaches(self) -> int:
        return self.total - self.met


@dataclass(frozen=True, slots=True)
class ServiceLevels:
    first_response: Share
    resolution: Share
    first_response_by: Mapping[str, Mapping[str, Share]]  # dimension -> key -> share
    resolution_by: Mapping[str, Mapping[str, Share]]


@dataclass(frozen=True, slots=True)
class Backlog:
    total: int
    by_state: Mapping[str, int]
    by_age: Mapping[str, int]
    unassigned: int
    oldest_number: str | None
    oldest_created_at: datetime | None


@dataclass(frozen=True, slots=True)
class Reopens:
    resolved: int
    reopened: int
    not_helped: int
    low_rating: int

    @property
    def rate(self) -> float | None:
        return None if self.resolved == 0 else self.reopened / self.resolved


@dataclass(frozen=True, slots=True)
class LowRating:
    number: str
    rating: int
    comment: str | None


@dataclass(frozen=True, slots=True)
class Satisfaction:
    surveys_sent: int
    surveys_answered: int
    ratings: int
    average: float | None
    csat: float | None
    distribution: Mapping[int, int]
    by_day: Sequence[tuple[date, float | None, int]]  # day, CSAT, ratings
    low: Sequence[LowRating]

    @property
    def response_rate(self) -> float | None:
        return None if self.surveys_sent == 0 else self.surveys_answered / self.surveys_sent


@dataclass(frozen=True, slots=True)
class Decisions:
    by_type: Mapping[str, int]
    by_category: Mapping[str, Mapping[str, int]]
    complaints_decided: int
    complaints_justified: int

    @property
    def justified_share(self) -> float | None:
        if self.complaints_decided == 0:
            return None
        return self.complaints_justified / self.complaints_decided


@dataclass(frozen=True, slots=True)
class CauseRow:
    category: str
    cause: str
    count: Change


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One line of a breakdown (by category, team, agent or priority)."""

    key: str
    created: int
    resolved: int
    first_response_median: float | None
    resolution_median: float | None
    first_response_level: Share
    resolution_level: Share
    csat: float | None
    ratings: int


@dataclass(frozen=True, slots=True)
class Knowledge:
    asked: int
    answered: int
    helpful: int
    top_unanswered: Sequence[tuple[str, int]]

    @property
    def deflection_rate(self) -> float | None:
        return None if self.asked == 0 else self.helpful / self.asked


@dataclass(frozen=True, slots=True)
class Report:
    period_first: date
    period_last: date
    start: datetime
    end: datetime
    as_of: datetime
    business_time: bool
    volume: Volume
    first_response: TimeStats
    resolution: TimeStats
    service_levels: ServiceLevels
    backlog: Backlog
    reopens: Reopens
    satisfaction: Satisfaction
    decisions: Decisions
    causes: Sequence[CauseRow]
    agents: Sequence[GroupRow]
    teams: Sequence[GroupRow]
    breakdown: str | None
    breakdown_rows: Sequence[GroupRow]
    knowledge: Knowledge


# --------------------------------------------------------------------------- statistics


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
    counts = Counter(bucket_of(value) for value in values)
    return DurationStats(
        count=len(values),
        median=median(values),
        p90=percentile(values, 0.9),
        mean=sum(values) / len(values) if values else None,
        buckets={name: counts.get(name, 0) for name, _ in BUCKETS},
    )


# --------------------------------------------------------------------------- per ticket


class TicketClock:
    """Service time of tickets in calendar time and, optionally, business time.

    With ``memo`` each ticket's durations are computed once (a report reads them for every
    breakdown); an export, which sees each ticket once, goes without.
    """

    def __init__(self, policy: SlaPolicy, *, memo: bool = True) -> None:
        self.policy = policy
        self.business: BusinessCalendar | None = policy.service_calendar
        self._memo: dict[tuple[str, int, bool], float] | None = {} if memo else None
        self._targets: dict[str, tuple[float, float]] = {}

    def first_response(self, ticket: TicketFacts, calendar: BusinessCalendar | None) -> float:
        key = ("first", ticket.id, calendar is None)
        if self._memo is not None and key in self._memo:
            return self._memo[key]
        assert ticket.first_response_at is not None
        span = service_time_between(ticket.created_at, ticket.first_response_at, calendar=calendar)
        hours = span.total_seconds() / HOUR
        if self._memo is not None:
            self._memo[key] = hours
        return hours

    def working(
        self, ticket: TicketFacts, until: datetime, calendar: BusinessCalendar | None
    ) -> float:
        """Service time from creation to ``until`` minus time waiting for the customer."""
        total = service_time_between(ticket.created_at, until, calendar=calendar)
        for start, stop in ticket.waiting:
            lo = max(start, ticket.created_at)
            hi = min(stop or until, until)
            if hi > lo:
                total -= service_time_between(lo, hi, calendar=calendar)
        return max(total, timedelta(0)).total_seconds() / HOUR

    def resolution(self, ticket: TicketFacts, calendar: BusinessCalendar | None) -> float:
        key = ("resolution", ticket.id, calendar is None)
        if self._memo is not None and key in self._memo:
            return self._memo[key]
        moment = ticket.resolution_moment
        assert moment is not None
        hours = self.working(ticket, moment, calendar)
        if self._memo is not None:
            self._memo[key] = hours
        return hours

    def targets(self, ticket: TicketFacts) -> tuple[float, float]:
        hours = self._targets.get(ticket.priority)
        if hours is None:
            target = self.policy.target_for(ticket.priority)
            hours = self._targets[ticket.priority] = (
                target.first_response.total_seconds() / HOUR,
                target.resolution.total_seconds() / HOUR,
            )
        return hours

    def first_response_met(
        self, ticket: TicketFacts, as_of: datetime, open_then: bool
    ) -> bool | None:
        """True / False once decided at ``as_of``: answered by then, or unanswered past the
        target while open (``open_then``); None while it may still be met."""
        first_target, _ = self.targets(ticket)
        if ticket.first_response_at is not None and ticket.first_response_at <= as_of:
            return self.first_response(ticket, self.business) <= first_target
        if not open_then:
            return None
        elapsed = service_time_between(ticket.created_at, as_of, calendar=self.business)
        return False if elapsed.total_seconds() / HOUR > first_target else None

    def resolution_met(self, ticket: TicketFacts, as_of: datetime, open_then: bool) -> bool | None:
        _, resolution_target = self.targets(ticket)
        if open_then:
            working = self.working(ticket, as_of, self.business)
            return False if working > resolution_target else None
        if ticket.resolution_moment is not None:
            return self.resolution(ticket, self.business) <= resolution_target
        return None


# --------------------------------------------------------------------------- the report


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def _share(results: Iterable[bool | None]) -> Share:
    decided = [result for result in results if result is not None]
    return Share(met=sum(1 for result in decided if result), total=len(decided))


def _sum_by(rows: Mapping[VolumeKey, int], position: int) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for key, count in rows.items():
        totals[key[position]] += count
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


NO_TEAM = "-"


def group_key(dimension: str) -> Callable[[TicketFacts], str]:
    if dimension == "category":
        return lambda ticket: ticket.category
    if dimension == "team":
        return lambda ticket: ticket.team or NO_TEAM
    if dimension == "agent":
        return lambda ticket: str(ticket.assignee_id) if ticket.assignee_id else NO_TEAM
    if dimension == "priority":
        return lambda ticket: ticket.priority
    raise ValueError(f"unknown breakdown {dimension!r}; use one of {', '.join(BREAKDOWNS)}")


class ReportBuilder:
    """Computes a `Report` from the loaded facts and SQL counts of one period."""

    def __init__(
        self,
        policy: SlaPolicy,
        zone: ZoneInfo,
        *,
        start: datetime,
        end: datetime,
        previous_start: datetime,
        now: datetime,
    ) -> None:
        self.clock = TicketClock(policy)
        self.zone = zone
        self.start = start
        self.end = end
        self.previous_start = previous_start
        self.as_of = min(end, now)
        self.open_ids: frozenset[int] = frozenset()  # open at as_of
        self._first_results: dict[int, bool | None] = {}
        self._resolution_known: dict[int, bool | None] = {}

    def build(
        self,
        tickets: Sequence[TicketFacts],
        counts: Counts,
        *,
        first: date,
        last: date,
        breakdown: str | None,
    ) -> Report:
        start, end = self.start, self.end
        self.open_ids = frozenset(counts.backlog_statuses)
        created = [t for t in tickets if _in(t.created_at, start, end)]
        resolved = [t for t in tickets if _in(t.resolution_moment, start, end)]
        rated = [t for t in tickets if t.rating is not None and _in(t.rated_at, start, end)]
        by_id = {t.id: t for t in tickets}
        backlog = [by_id[i] for i in counts.backlog_statuses if i in by_id]
        # Each ticket's figures are computed once; the breakdowns only group them.
        first_met = {t.id: self._first_met(t) for t in created}
        resolution_met = self._resolution_results(created, resolved)
        calendar = self.clock.business
        hours = Hours(
            first={
                t.id: self.clock.first_response(t, calendar)
                for t in created
                if t.first_response_at is not None
            },
            resolution={t.id: self.clock.resolution(t, calendar) for t in resolved},
            first_met=first_met,
            resolution_met=resolution_met,
        )
        wanted = ("agent", "team", *((breakdown,) if breakdown else ()))
        rows = {
            dimension: self.groups(created, resolved, rated, group_key(dimension), hours)
            for dimension in dict.fromkeys(wanted)
        }
        return Report(
            period_first=first,
            period_last=last,
            start=start,
            end=end,
            as_of=self.as_of,
            business_time=self.clock.business is not None,
            volume=self.volume(counts, first, last),
            first_response=self.times(
                [t for t in created if t.first_response_at is not None], self.clock.first_response
            ),
            resolution=self.times(resolved, self.clock.resolution),
            service_levels=self.service_levels(created, resolved, first_met, resolution_met),
            backlog=self.backlog(backlog, counts.backlog_statuses),
            reopens=Reopens(
                resolved=counts.resolved,
                reopened=counts.reopened,
                not_helped=counts.reopened_not_helped,
                low_rating=counts.reopened_low_rating,
            ),
            satisfaction=self.satisfaction(tickets, rated, first, last),
            decisions=self.decisions(resolved),
            causes=self.causes(resolved, counts.previous_causes),
            agents=rows["agent"],
            teams=rows["team"],
            breakdown=breakdown,
            breakdown_rows=rows[breakdown] if breakdown else [],
            knowledge=Knowledge(
                asked=counts.kb_asked,
                answered=counts.kb_answered,
                helpful=counts.kb_helpful,
                top_unanswered=list(counts.kb_unanswered),
            ),
        )

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def volume(self, counts: Counts, first: date, last: date) -> Volume:
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        per_day: dict[date, dict[str, int]] = {day: {} for day in days}
        for (index, category), count in counts.created_by_day.items():
            per_day[days[index]][category] = count
        rows = counts.created_by
        return Volume(
            created=Change(sum(rows.values()), counts.previous_created),
            resolved=Change(counts.resolved, counts.previous_resolved),
            backlog_at_end=len(counts.backlog_statuses),
            by_day=[(day, sum(per_day[day].values())) for day in days],
            by_day_category=[(day, dict(per_day[day])) for day in days],
            by_category=_sum_by(rows, 0),
            by_team=_sum_by(rows, 1),
            by_priority=_sum_by(rows, 2),
            by_kind=_sum_by(rows, 3),
            by_language=_sum_by(rows, 4),
            by_source=_sum_by(rows, 5),
        )

    def times(
        self,
        tickets: Sequence[TicketFacts],
        measure: Callable[[TicketFacts, BusinessCalendar | None], float],
    ) -> TimeStats:
        calendar = duration_stats(measure(t, None) for t in tickets)
        business = None
        if self.clock.business is not None:
            business = duration_stats(measure(t, self.clock.business) for t in tickets)
        return TimeStats(calendar=calendar, business=business)

    def service_levels(
        self,
        created: Sequence[TicketFacts],
        resolved: Sequence[TicketFacts],
        first: Mapping[int, bool | None],
        resolution: Mapping[int, bool | None],
    ) -> ServiceLevels:
        population = {t.id: t for t in (*created, *resolved)}
        first_by: dict[str, dict[str, Share]] = {}
        resolution_by: dict[str, dict[str, Share]] = {}
        for dimension in BREAKDOWNS:
            key = group_key(dimension)
            first_groups: dict[str, list[bool | None]] = defaultdict(list)
            for ticket_id, result in first.items():
                first_groups[key(population[ticket_id])].append(result)
            resolution_groups: dict[str, list[bool | None]] = defaultdict(list)
            for ticket_id, result in resolution.items():
                resolution_groups[key(population[ticket_id])].append(result)
            first_by[dimension] = {k: _share(v) for k, v in sorted(first_groups.items())}
            resolution_by[dimension] = {k: _share(v) for k, v in sorted(resolution_groups.items())}
        return ServiceLevels(
            first_response=_share(first.values()),
            resolution=_share(resolution.values()),
            first_response_by=first_by,
            resolution_by=resolution_by,
        )

    def _resolution_results(
        self, created: Sequence[TicketFacts], resolved: Sequence[TicketFacts]
    ) -> dict[int, bool | None]:
        """Resolved in the period, plus tickets created in it and open at ``as_of`` that are
        already past the target."""
        results: dict[int, bool | None] = {t.id: self._resolution_met(t, False) for t in resolved}
        for ticket in created:
            if ticket.id not in results and ticket.id in self.open_ids:
                results[ticket.id] = self._resolution_met(ticket, True)
        return results

    def _resolution_met(self, ticket: TicketFacts, open_then: bool) -> bool | None:
        known = self._resolution_known.get(ticket.id, ...)
        if known is ...:
            known = self._resolution_known[ticket.id] = self.clock.resolution_met(
                ticket, self.as_of, open_then=open_then
            )
        return known

    def _first_met(self, ticket: TicketFacts) -> bool | None:
        known = self._first_results.get(ticket.id, ...)
        if known is ...:
            known = self._first_results[ticket.id] = self.clock.first_response_met(
                ticket, self.as_of, ticket.id in self.open_ids
            )
        return known

    def backlog(self, tickets: Sequence[TicketFacts], states: Mapping[int, str]) -> Backlog:
        by_state = Counter(states.values())
        ages = Counter(
            bucket_of((self.as_of - t.created_at).total_seconds() / 86400, AGE_BUCKETS)
            for t in tickets
        )
        oldest = min(tickets, key=lambda t: (t.created_at, t.id), default=None)
        return Backlog(
            total=len(states),
            by_state={s: by_state.get(s, 0) for s in OPEN_STATUSES},
            by_age={name: ages.get(name, 0) for name, _ in AGE_BUCKETS},
            unassigned=sum(1 for t in tickets if t.assignee_id is None),
            oldest_number=oldest.number if oldest else None,
            oldest_created_at=oldest.created_at if oldest else None,
        )

    def satisfaction(
        self,
        tickets: Sequence[TicketFacts],
        rated: Sequence[TicketFacts],
        first: date,
        last: date,
    ) -> Satisfaction:
        surveyed = [t for t in tickets if _in(t.survey_sent_at, self.start, self.end)]
        scores = [t.rating for t in rated if t.rating is not None]
        per_day: dict[date, list[int]] = defaultdict(list)
        for ticket in rated:
            assert ticket.rated_at is not None and ticket.rating is not None
            per_day[self.local_date(ticket.rated_at)].append(ticket.rating)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        low = sorted(
            (t for t in rated if t.rating is not None and t.rating <= LOW_RATING),
            key=lambda t: (t.rating or 0, t.number),
        )
        return Satisfaction(
            surveys_sent=len(surveyed),
            surveys_answered=sum(1 for t in surveyed if t.rating is not None),
            ratings=len(scores),
            average=sum(scores) / len(scores) if scores else None,
            csat=_csat(scores),
            distribution={score: scores.count(score) for score in range(1, 6)},
            by_day=[(day, _csat(per_day.get(day, [])), len(per_day.get(day, []))) for day in days],
            low=[
                LowRating(t.number, t.rating or 0, t.rating_comment)
                for t in low[:LOW_RATINGS_SHOWN]
            ],
        )

    def decisions(self, resolved: Sequence[TicketFacts]) -> Decisions:
        decided = [t for t in resolved if t.resolution_type]
        by_category: dict[str, Counter[str]] = defaultdict(Counter)
        for ticket in decided:
            assert ticket.resolution_type is not None
            by_category[ticket.category][ticket.resolution_type] += 1
        complaints = [t for t in decided if t.kind == "complaint"]
        types = Counter(t.resolution_type for t in decided)
        return Decisions(
            by_type={kind: types.get(kind, 0) for kind in DECISIONS},
            by_category={cat: dict(counter) for cat, counter in sorted(by_category.items())},
            complaints_decided=len(complaints),
            complaints_justified=sum(1 for t in complaints if t.resolution_type in JUSTIFIED),
        )

    def causes(
        self, resolved: Sequence[TicketFacts], previous: Mapping[tuple[str, str], int]
    ) -> list[CauseRow]:
        current = Counter((t.category, t.root_cause) for t in resolved if t.root_cause)
        rows = [
            CauseRow(category, cause, Change(count, previous.get((category, cause), 0)))
            for (category, cause), count in current.items()
            if cause is not None
        ]
        rows.sort(key=lambda row: (-row.count.current, -row.count.delta, row.category, row.cause))
        return rows[:TOP_CAUSES]

    def groups(
        self,
        created: Sequence[TicketFacts],
        resolved: Sequence[TicketFacts],
        rated: Sequence[TicketFacts],
        key: Callable[[TicketFacts], str],
        hours: Hours,
    ) -> list[GroupRow]:
        created_by: dict[str, list[int]] = defaultdict(list)
        resolved_by: dict[str, list[int]] = defaultdict(list)
        rated_by: dict[str, list[int]] = defaultdict(list)
        for ticket in created:
            created_by[key(ticket)].append(ticket.id)
        for ticket in resolved:
            resolved_by[key(ticket)].append(ticket.id)
        for ticket in rated:
            assert ticket.rating is not None
            rated_by[key(ticket)].append(ticket.rating)
        rows = []
        for name in sorted(set(created_by) | set(resolved_by) | set(rated_by)):
            made, done = created_by.get(name, []), resolved_by.get(name, [])
            first_hours = sorted(hours.first[i] for i in made if i in hours.first)
            resolution_hours = sorted(hours.resolution[i] for i in done)
            # As `_resolution_results`: resolved in the period, or created in it and open.
            resolution = {
                i: hours.resolution_met[i] for i in (*done, *made) if i in hours.resolution_met
            }
            scores = rated_by.get(name, [])
            rows.append(
                GroupRow(
                    key=name,
                    created=len(made),
                    resolved=len(done),
                    first_response_median=median(first_hours),
                    resolution_median=median(resolution_hours),
                    first_response_level=_share(hours.first_met[i] for i in made),
                    resolution_level=_share(resolution.values()),
                    csat=_csat(scores),
                    ratings=len(scores),
                )
            )
        rows.sort(key=lambda row: (-(row.created + row.resolved), row.key))
        return rows


@dataclass(frozen=True, slots=True)
class Hours:
    """Each ticket's figures of one report, computed once (ticket id -> value): service time
    to the first response (tickets created and answered) and to the resolution (resolved in
    the period), and whether the targets were met (see `TicketClock`)."""

    first: Mapping[int, float]
    resolution: Mapping[int, float]
    first_met: Mapping[int, bool | None]
    resolution_met: Mapping[int, bool | None]


def _csat(scores: Sequence[int]) -> float | None:
    """CSAT: the share of ratings that are 4 or 5."""
    if not scores:
        return None
    return sum(1 for score in scores if score >= 4) / len(scores)
