"""The baseline of the spike test, counted from ticket times read ahead and kept in memory.

What: the spike test weighs a cluster against its category's tickets in the same stretch of
each of the trailing weeks (`bot.domain.incidents.baseline_spans`). `BaselineCache` reads the
category's ticket times in those stretches once for the next `READ_AHEAD` of the clock too,
keeps them sorted, and counts each span with two binary searches until the clock leaves what
it read. The counts are exactly those of counting the spans in the database
(`tests/incidents/test_baseline.py` compares the two).

Why: the spike test runs for every ticket of a big cluster that has not alerted, which is
every ticket of a busy category whose clusters are usual for the hour. Counting the spans in
the database each time reads every ticket in them again: with 2,000 tickets an hour at that
time of the past weeks, 16,000 index entries and about 1.8 ms a ticket (docs/benchmarks.md,
"Mass incidents"); here that is one read of about 20,000 times every `READ_AHEAD`.

Price: the times of the spans per category in memory (about 30 bytes a ticket, 0.6 MB for that
busy category), and the ticket that refreshes them waits for the read (about 20 ms for that
category; once in `READ_AHEAD` per category).

Correctness with restarts and several instances: the spans end at least a week minus the
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

READ_AHEAD = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class _Read:
    since: datetime  # the clock moments whose spans `times` covers: [since, until]
    until: datetime
    times: list[datetime]


class BaselineCache:
    """The category's ticket times in the baseline spans of the near future, kept sorted."""

    def __init__(self) -> None:
        self._reads: dict[str, _Read] = {}

    async def counts(
        self, repo: IncidentRepository, category: str, *, now: datetime, policy: SpikePolicy
    ) -> list[int]:
        """The category's tickets in each of `baseline_spans(now, policy)`."""
        read = self._reads.get(category)
        if read is None or not read.since <= now <= read.until:
            spans = [(start, end + READ_AHEAD) for start, end in baseline_spans(now, policy)]
            times = await repo.times_between(category=category, spans=spans)
            read = self._reads[category] = _Read(now, now + READ_AHEAD, times)
        return [
            bisect_left(read.times, end) - bisect_left(read.times, start)
            for start, end in baseline_spans(now, policy)
        ]
