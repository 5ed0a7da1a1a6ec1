"""What a report holds: plain, picklable dataclasses (the library's return value)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime


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
