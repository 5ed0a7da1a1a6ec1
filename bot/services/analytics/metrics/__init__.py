"""Every figure of the supervisors' report, defined once (the README quotes these definitions).

One package, one place per figure: `volume` (created, resolved, backlog, reopens),
`durations` (service time, median / p90 / mean / buckets, targets met), `people` (service
levels and the breakdowns by category, team, agent and priority), `satisfaction`
(satisfaction, decisions, root causes, knowledge base); `builder` assembles a `Report`
(`results`) from what `queries.py` loads (`facts`). Pure computation: no I/O here, so the same
code serves SQLite and PostgreSQL, the bot, the command line and the tests.

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

from bot.services.analytics.metrics.builder import ReportBuilder
from bot.services.analytics.metrics.durations import (
    AGE_BUCKETS,
    BUCKETS,
    TicketClock,
    bucket_of,
    duration_stats,
    median,
    percentile,
)
from bot.services.analytics.metrics.facts import (
    NO_TEAM,
    OPEN_STATUSES,
    Counts,
    OpenTicket,
    TicketFacts,
    TicketTimes,
)
from bot.services.analytics.metrics.people import BREAKDOWNS
from bot.services.analytics.metrics.results import (
    Backlog,
    CauseRow,
    Change,
    Decisions,
    DurationStats,
    GroupRow,
    Knowledge,
    LowRating,
    Reopens,
    Report,
    Satisfaction,
    ServiceLevels,
    Share,
    TimeStats,
    Volume,
)
from bot.services.analytics.metrics.satisfaction import DECISIONS, JUSTIFIED

__all__ = [
    "AGE_BUCKETS",
    "BREAKDOWNS",
    "BUCKETS",
    "DECISIONS",
    "JUSTIFIED",
    "NO_TEAM",
    "OPEN_STATUSES",
    "Backlog",
    "CauseRow",
    "Change",
    "Counts",
    "Decisions",
    "DurationStats",
    "GroupRow",
    "Knowledge",
    "LowRating",
    "OpenTicket",
    "Reopens",
    "Report",
    "ReportBuilder",
    "Satisfaction",
    "ServiceLevels",
    "Share",
    "TicketClock",
    "TicketFacts",
    "TicketTimes",
    "TimeStats",
    "Volume",
    "bucket_of",
    "duration_stats",
    "median",
    "percentile",
]
