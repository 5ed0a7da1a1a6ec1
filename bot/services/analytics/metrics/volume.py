"""Volume, backlog and reopens: figures counted in SQL, arranged here."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from bot.services.analytics.metrics.durations import AGE_BUCKETS, bucket_of
from bot.services.analytics.metrics.facts import OPEN_STATUSES, Counts, OpenTicket, VolumeKey
from bot.services.analytics.metrics.results import Backlog, Change, Reopens, Volume


def _sum_by(rows: Mapping[VolumeKey, int], position: int) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for key, count in rows.items():
        totals[key[position]] += count
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def volume(counts: Counts, days: Sequence[date]) -> Volume:
    """Created in the period (per local day, by category, team, priority, kind, language,
    source; against the previous period), resolved in it, open at its end."""
    per_day: dict[date, dict[str, int]] = {day: {} for day in days}
    for (index, category), count in counts.created_by_day.items():
        per_day[days[index]][category] = count
    rows = counts.created_by
    return Volume(
        created=Change(sum(rows.values()), counts.previous_created),
        resolved=Change(counts.resolved, counts.previous_resolved),
        backlog_at_end=len(counts.backlog),
        by_day=[(day, sum(per_day[day].values())) for day in days],
        by_day_category=[(day, dict(per_day[day])) for day in days],
        by_category=_sum_by(rows, 0),
        by_team=_sum_by(rows, 1),
        by_priority=_sum_by(rows, 2),
        by_kind=_sum_by(rows, 3),
        by_language=_sum_by(rows, 4),
        by_source=_sum_by(rows, 5),
    )


def backlog(tickets: Sequence[OpenTicket], as_of: datetime) -> Backlog:
    """Open at ``as_of``: by the status then, by age, unassigned, the oldest."""
    by_state = Counter(t.status for t in tickets)
    ages = Counter(
        bucket_of((as_of - t.created_at).total_seconds() / 86400, AGE_BUCKETS) for t in tickets
    )
    oldest = min(tickets, key=lambda t: (t.created_at, t.id), default=None)
    return Backlog(
        total=len(tickets),
        by_state={s: by_state.get(s, 0) for s in OPEN_STATUSES},
        by_age={name: ages.get(name, 0) for name, _ in AGE_BUCKETS},
        unassigned=sum(1 for t in tickets if t.assignee_id is None),
        oldest_number=oldest.number if oldest else None,
        oldest_created_at=oldest.created_at if oldest else None,
    )


def reopens(counts: Counts) -> Reopens:
    """Tickets reopened in the period (each once) against tickets resolved in it."""
    return Reopens(
        resolved=counts.resolved,
        reopened=counts.reopened,
        not_helped=counts.reopened_not_helped,
        low_rating=counts.reopened_low_rating,
    )
