"""Satisfaction, decisions, root causes and the knowledge base: counted in SQL, arranged here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from bot.services.analytics.metrics.facts import Counts
from bot.services.analytics.metrics.results import (
    CauseRow,
    Change,
    Decisions,
    Knowledge,
    LowRating,
    Satisfaction,
)

DECISIONS = ("refund", "replacement", "compensation", "explanation", "apology", "rejected")
# A complaint is "found justified" when the decision gives the customer something or an apology.
JUSTIFIED = frozenset({"refund", "replacement", "compensation", "apology"})
LOW_RATING = 2
HIGH_RATING = 4  # CSAT: the share of ratings that are 4 or 5
TOP_CAUSES = 10
LOW_RATINGS_SHOWN = 10


def csat(distribution: Mapping[int, int]) -> float | None:
    """The share of ratings that are 4 or 5."""
    ratings = sum(distribution.values())
    if ratings == 0:
        return None
    return sum(n for score, n in distribution.items() if score >= HIGH_RATING) / ratings


def satisfaction(counts: Counts, days: Sequence[date]) -> Satisfaction:
    """Surveys sent in the period and how many have a rating; ratings given in the period."""
    distribution = dict.fromkeys(range(1, 6), 0)
    for (_, score), n in counts.ratings_by.items():
        distribution[score] = distribution.get(score, 0) + n
    ratings = sum(distribution.values())
    per_day: dict[int, dict[int, int]] = defaultdict(dict)
    for (index, score), n in counts.ratings_by_day.items():
        per_day[index][score] = n
    return Satisfaction(
        surveys_sent=counts.surveys_sent,
        surveys_answered=counts.surveys_answered,
        ratings=ratings,
        average=sum(s * n for s, n in distribution.items()) / ratings if ratings else None,
        csat=csat(distribution),
        distribution=distribution,
        by_day=[
            (day, csat(per_day.get(i, {})), sum(per_day.get(i, {}).values()))
            for i, day in enumerate(days)
        ],
        low=[LowRating(*row) for row in counts.low_ratings[:LOW_RATINGS_SHOWN]],
    )


def decisions(counts: Counts) -> Decisions:
    """Resolution types of the tickets resolved in the period; justified complaints."""
    by_type = dict.fromkeys(DECISIONS, 0)
    by_category: dict[str, dict[str, int]] = defaultdict(dict)
    decided = justified = 0
    for (category, kind, resolution), n in counts.decisions.items():
        by_type[resolution] = by_type.get(resolution, 0) + n
        by_category[category][resolution] = by_category[category].get(resolution, 0) + n
        if kind == "complaint":
            decided += n
            justified += n if resolution in JUSTIFIED else 0
    return Decisions(
        by_type={kind: by_type[kind] for kind in DECISIONS},
        by_category=dict(sorted(by_category.items())),
        complaints_decided=decided,
        complaints_justified=justified,
    )


def causes(counts: Counts) -> list[CauseRow]:
    """The most frequent causes of the tickets resolved in the period, with their change."""
    rows = [
        CauseRow(category, cause, Change(n, counts.previous_causes.get((category, cause), 0)))
        for (category, cause), n in counts.causes.items()
    ]
    rows.sort(key=lambda row: (-row.count.current, -row.count.delta, row.category, row.cause))
    return rows[:TOP_CAUSES]


def knowledge(counts: Counts) -> Knowledge:
    return Knowledge(
        asked=counts.kb_asked,
        answered=counts.kb_answered,
        helpful=counts.kb_helpful,
        top_unanswered=list(counts.kb_unanswered),
    )
