"""What the report reads from the database: a few columns per ticket, and SQL counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

OPEN_STATUSES = ("new", "in_progress", "waiting_customer", "reopened")
NO_TEAM = "-"


GroupKeys = tuple[str, str, str, str]


def group_keys(
    category: str, team: str | None, assignee_id: int | None, priority: str
) -> GroupKeys:
    """A ticket's key in each breakdown (category, team, agent, priority; see `BREAKDOWNS`);
    no team or no assignee is `NO_TEAM`."""
    return (category, team or NO_TEAM, str(assignee_id) if assignee_id else NO_TEAM, priority)


@dataclass(slots=True)
class TicketTimes:
    """A ticket's moments and the keys it is grouped by (loaded by `queries.py`)."""

    id: int
    created_at: datetime
    status: str
    priority: str
    category: str
    team: str | None
    assignee_id: int | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    # Stretches in waiting_customer, (start, end); end None while still waiting.
    waiting: list[tuple[datetime, datetime | None]] = field(default_factory=list)

    @property
    def resolution_moment(self) -> datetime | None:
        if self.resolved_at is not None:
            return self.resolved_at
        if self.status == "closed":
            return self.closed_at
        return None

    @property
    def group_keys(self) -> GroupKeys:
        return group_keys(self.category, self.team, self.assignee_id, self.priority)


@dataclass(slots=True)
class TicketFacts(TicketTimes):
    """Everything the export writes of one ticket."""

    number: str = ""
    kind: str = ""
    channel: str = ""
    locale: str = ""
    resolution_type: str | None = None
    root_cause: str | None = None
    rating: int | None = None
    reopens: int = 0


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """A ticket open at ``as_of``, with its status then."""

    id: int
    number: str
    created_at: datetime
    status: str
    assignee_id: int | None


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
    backlog: Sequence[OpenTicket]
    surveys_sent: int
    surveys_answered: int
    ratings_by: Mapping[tuple[GroupKeys, int], int]
    """((category, team, agent, priority), rating) -> ratings given in the period."""
    ratings_by_day: Mapping[tuple[int, int], int]
    """(local day of the period, rating) -> ratings given."""
    low_ratings: Sequence[tuple[str, int, str | None]]
    """(number, rating, comment) of the lowest ratings, lowest first, then by number."""
    decisions: Mapping[tuple[str, str, str], int]
    """(category, kind, resolution type) -> tickets resolved in the period with it."""
    causes: Mapping[tuple[str, str], int]
    """(category, cause) -> tickets resolved in the period with it."""
    previous_causes: Mapping[tuple[str, str], int]
    kb_asked: int
    kb_answered: int
    kb_helpful: int
    kb_unanswered: Sequence[tuple[str, int]]
