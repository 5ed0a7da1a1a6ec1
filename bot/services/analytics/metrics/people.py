"""Times, service levels and the breakdowns (by category, team, agent, priority).

Each ticket's times and targets are computed once (`TicketClock`) and added to the tally of
its combination of group keys; a breakdown then merges the tallies that share its key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.services.analytics.metrics.durations import median
from bot.services.analytics.metrics.facts import GroupKeys
from bot.services.analytics.metrics.results import GroupRow, Share

BREAKDOWNS = ("category", "team", "agent", "priority")  # the order of `GroupKeys`


@dataclass(slots=True)
class Tally:
    """The figures of one group of tickets."""

    created: int = 0
    resolved: int = 0
    first_hours: list[float] = field(default_factory=list)
    resolution_hours: list[float] = field(default_factory=list)
    first_met: int = 0
    first_decided: int = 0
    # Tickets judged for resolution (resolved, or created and open), decided or not yet.
    resolution_judged: int = 0
    resolution_met: int = 0
    resolution_decided: int = 0
    ratings: int = 0
    high_ratings: int = 0

    def first_result(self, met: bool | None) -> None:
        if met is not None:
            self.first_decided += 1
            self.first_met += met

    def resolution_result(self, met: bool | None) -> None:
        self.resolution_judged += 1
        if met is not None:
            self.resolution_decided += 1
            self.resolution_met += met

    def merge(self, other: Tally) -> None:
        self.created += other.created
        self.resolved += other.resolved
        self.first_hours.extend(other.first_hours)
        self.resolution_hours.extend(other.resolution_hours)
        self.first_met += other.first_met
        self.first_decided += other.first_decided
        self.resolution_judged += other.resolution_judged
        self.resolution_met += other.resolution_met
        self.resolution_decided += other.resolution_decided
        self.ratings += other.ratings
        self.high_ratings += other.high_ratings

    @property
    def first_level(self) -> Share:
        return Share(met=self.first_met, total=self.first_decided)

    @property
    def resolution_level(self) -> Share:
        return Share(met=self.resolution_met, total=self.resolution_decided)

    @property
    def csat(self) -> float | None:
        return None if self.ratings == 0 else self.high_ratings / self.ratings


def by_dimension(tallies: Mapping[GroupKeys, Tally], dimension: str) -> dict[str, Tally]:
    position = BREAKDOWNS.index(dimension)
    merged: dict[str, Tally] = {}
    for keys, tally in tallies.items():
        into = merged.get(keys[position])
        if into is None:
            into = merged[keys[position]] = Tally()
        into.merge(tally)
    return merged


def total(tallies: Iterable[Tally]) -> Tally:
    result = Tally()
    for tally in tallies:
        result.merge(tally)
    return result


def group_rows(groups: Mapping[str, Tally]) -> list[GroupRow]:
    """One row per group, the busiest first: tickets created and resolved in the period,
    median first response (created) and resolution (resolved) in the time the SLA counts in,
    shares on time (see `ServiceLevels`) and CSAT of the ratings given in the period."""
    rows = [
        GroupRow(
            key=name,
            created=tally.created,
            resolved=tally.resolved,
            first_response_median=median(sorted(tally.first_hours)),
            resolution_median=median(sorted(tally.resolution_hours)),
            first_response_level=tally.first_level,
            resolution_level=tally.resolution_level,
            csat=tally.csat,
            ratings=tally.ratings,
        )
        for name, tally in groups.items()
    ]
    rows.sort(key=lambda row: (-(row.created + row.resolved), row.key))
    return rows


def levels_by(groups: Mapping[str, Tally]) -> tuple[dict[str, Share], dict[str, Share]]:
    """First response and resolution shares on time of the groups that have tickets judged."""
    first = {name: groups[name].first_level for name in sorted(groups) if groups[name].created}
    resolution = {
        name: groups[name].resolution_level
        for name in sorted(groups)
        if groups[name].resolution_judged
    }
    return first, resolution
