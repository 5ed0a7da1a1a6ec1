"""Assembles a `Report` from the loaded ticket times and SQL counts of one period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.sla import SlaPolicy
from bot.services.analytics.metrics.durations import TicketClock, duration_stats
from bot.services.analytics.metrics.facts import Counts, GroupKeys, TicketTimes
from bot.services.analytics.metrics.people import (
    BREAKDOWNS,
    Tally,
    by_dimension,
    group_rows,
    levels_by,
    total,
)
from bot.services.analytics.metrics.results import Report, ServiceLevels, TimeStats
from bot.services.analytics.metrics.satisfaction import (
    HIGH_RATING,
    causes,
    decisions,
    knowledge,
    satisfaction,
)
from bot.services.analytics.metrics.volume import backlog, reopens, volume


class ReportBuilder:
    """Computes a `Report` from the tickets created or resolved in the period (their times)
    and the SQL counts of that period."""

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

    def build(
        self,
        tickets: Sequence[TicketTimes],
        counts: Counts,
        *,
        first: date,
        last: date,
        breakdown: str | None,
    ) -> Report:
        times = _Times()
        tallies = self.tallies(tickets, frozenset(t.id for t in counts.backlog), times)
        for (keys, score), n in counts.ratings_by.items():
            tally = tallies.setdefault(keys, Tally())
            tally.ratings += n
            tally.high_ratings += n if score >= HIGH_RATING else 0
        groups = {dimension: by_dimension(tallies, dimension) for dimension in BREAKDOWNS}
        levels = {dimension: levels_by(groups[dimension]) for dimension in BREAKDOWNS}
        overall = total(tallies.values())
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        business = self.clock.business is not None
        # Each table once (sorting every group's times): the breakdown is often teams or agents.
        rows = {
            dimension: group_rows(groups[dimension])
            for dimension in {"agent", "team", breakdown}
            if dimension is not None
        }
        return Report(
            period_first=first,
            period_last=last,
            start=self.start,
            end=self.end,
            as_of=self.as_of,
            business_time=business,
            volume=volume(counts, days),
            first_response=TimeStats(
                calendar=duration_stats(times.first_calendar),
                business=duration_stats(times.first_business) if business else None,
            ),
            resolution=TimeStats(
                calendar=duration_stats(times.resolution_calendar),
                business=duration_stats(times.resolution_business) if business else None,
            ),
            service_levels=ServiceLevels(
                first_response=overall.first_level,
                resolution=overall.resolution_level,
                first_response_by={d: first for d, (first, _) in levels.items()},
                resolution_by={d: resolution for d, (_, resolution) in levels.items()},
            ),
            backlog=backlog(counts.backlog, self.as_of),
            reopens=reopens(counts),
            satisfaction=satisfaction(counts, days),
            decisions=decisions(counts),
            causes=causes(counts),
            agents=rows["agent"],
            teams=rows["team"],
            breakdown=breakdown,
            breakdown_rows=list(rows[breakdown]) if breakdown else [],
            knowledge=knowledge(counts),
        )

    def tallies(
        self, tickets: Sequence[TicketTimes], open_ids: frozenset[int], times: _Times
    ) -> dict[GroupKeys, Tally]:
        """Each ticket's times and targets, once, added to the tally of its group keys.

        First response: tickets created in the period (the time of those answered; on time:
        see `TicketClock.first_response_met`). Resolution: tickets resolved in the period,
        and those created in it and open at ``as_of`` (judged at ``as_of``).
        """
        clock, business, as_of = self.clock, self.clock.business, self.as_of
        start, end = self.start, self.end
        tallies: dict[GroupKeys, Tally] = {}
        for ticket in tickets:
            created = start <= ticket.created_at < end
            moment = ticket.resolution_moment
            resolved = moment is not None and start <= moment < end
            is_open = ticket.id in open_ids
            if not (created or resolved):
                continue
            keys = ticket.group_keys
            tally = tallies.get(keys)
            if tally is None:
                tally = tallies[keys] = Tally()
            if created:
                tally.created += 1
                first = None
                if ticket.first_response_at is not None:
                    first = clock.first_response(ticket, None)
                    times.first_calendar.append(first)
                    if business is not None:
                        first = clock.first_response(ticket, business)
                        times.first_business.append(first)
                    tally.first_hours.append(first)
                tally.first_result(clock.first_response_met(ticket, as_of, is_open, first))
            if resolved:
                tally.resolved += 1
                hours = clock.resolution(ticket, None)
                times.resolution_calendar.append(hours)
                if business is not None:
                    hours = clock.resolution(ticket, business)
                    times.resolution_business.append(hours)
                tally.resolution_hours.append(hours)
                tally.resolution_result(clock.resolution_met(ticket, as_of, False, hours))
            elif created and is_open:
                tally.resolution_result(clock.resolution_met(ticket, as_of, open_then=True))
        return tallies


class _Times:
    """Service times in hours of one report's tickets, calendar and business."""

    def __init__(self) -> None:
        self.first_calendar: list[float] = []
        self.first_business: list[float] = []
        self.resolution_calendar: list[float] = []
        self.resolution_business: list[float] = []
