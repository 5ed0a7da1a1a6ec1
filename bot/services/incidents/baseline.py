"""The baseline of the spike test, counted from ticket times kept in memory and read ahead.

What: the spike test weighs a cluster against its category's tickets in the same stretch of
each of the trailing weeks (`bot.domain.incidents.baseline_spans`). `BaselineCache` keeps, per
category and week, the sorted times of the tickets in that stretch and in the next
`READ_AHEAD` of it, and counts each span with two binary searches. When the clock passes what
it read, it reads only the next `READ_AHEAD` of each stretch and forgets what fell out of it
(the first read, or a jump of the clock, reads the whole stretches). The counts are exactly
those of counting the spans in the database (`tests/incidents/test_baseline.py` compares).

Why: the spike test runs for every ticket of a big cluster that has not alerted, which is
every ticket of a busy category whose clusters are usual for the hour. Counting the spans in
the database each time reads every ticket in them again: with 2,000 tickets an hour at that
time of the past weeks, 16,000 index entries and about 1.8 ms a ticket (docs/benchmarks.md,
"Mass incidents"). Here a ticket reads nothing, and once in `READ_AHEAD` one ticket reads the
next few minutes of four stretches (about 700 times for that category).

Price: the times of the stretches per category in memory (about 60 bytes a ticket, 1 MB for
that busy category); the first spike test of a category in a process reads them all (about
16,000 times there, about 50 ms).

Correctness with restarts and several instances: the stretches end at least a week minus the
window before now, so the tickets in them are long committed and never change; whatever an
instance read is what every other instance would read. A new process reads them on its first
spike test.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.incidents import SpikePolicy, baseline_spans
from storage.incident_repository import IncidentRepository

READ_AHEAD = timedelta(minutes=5)


@dataclass(slots=True)
class _Kept:
    since: datetime  # the clock moments whose spans `times` covers: [since, until]
    until: datetime
    times: list[list[datetime]]  # per week, sorted


class BaselineCache:
    """Per category, the ticket times of the baseline spans up to `READ_AHEAD` ahead."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}

    async def counts(
        self, repo: IncidentRepository, category: str, *, now: datetime, policy: SpikePolicy
    ) -> list[int]:
        """The category's tickets in each of `baseline_spans(now, policy)`."""
        kept = self._kept.get(category)
        if kept is None or now < kept.since or now > kept.until + 2 * policy.window:
            kept = self._kept[category] = await self._read(repo, category, now, policy)
        elif now > kept.until:
            await self._read_on(repo, category, kept, now, policy)
        return [
            bisect_left(times, end) - bisect_left(times, start)
            for times, (start, end) in zip(kept.times, baseline_spans(now, policy), strict=True)
        ]

    @staticmethod
    async def _read(
        repo: IncidentRepository, category: str, now: datetime, policy: SpikePolicy
    ) -> _Kept:
        spans = [(start, end + READ_AHEAD) for start, end in baseline_spans(now, policy)]
        times = await repo.times_between(category=category, spans=spans)
        return _Kept(now, now + READ_AHEAD, _split(times, spans))

    @staticmethod
    async def _read_on(
        repo: IncidentRepository, category: str, kept: _Kept, now: datetime, policy: SpikePolicy
    ) -> None:
        """Read the stretches from where `kept` ends to `READ_AHEAD` past `now`; forget the
        times before the spans of `now`."""
        offset = now + READ_AHEAD - kept.until
        spans = [(end, end + offset) for _, end in baseline_spans(kept.until, policy)]
        fresh = _split(await repo.times_between(category=category, spans=spans), spans)
        for times, more, (start, _) in zip(
            kept.times, fresh, baseline_spans(now, policy), strict=True
        ):
            del times[: bisect_left(times, start)]
            times.extend(more)
        kept.since, kept.until = now, now + READ_AHEAD


def _split(times: list[datetime], spans: list[tuple[datetime, datetime]]) -> list[list[datetime]]:
    """The sorted `times` of disjoint spans, per span."""
    return [times[bisect_left(times, start) : bisect_left(times, end)] for start, end in spans]
