"""The report's SQL: the same Core statements on SQLite and PostgreSQL.

Counts are aggregated in SQL (one statement each); durations need each ticket's times, so
the tickets of the period are loaded as compact facts and their medians computed in Python
(`metrics.py`) from sorted values. Every function takes a synchronous `Connection`: on SQLite
it is a read-only connection in a worker thread, on PostgreSQL the async driver's connection
seen through `run_sync` (see `reader.py`). Large results are read in batches (`yield_per`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    type_coerce,
)

from bot.services.analytics.metrics import OPEN_STATUSES, Counts, TicketFacts
from storage.kb_models import KbQuery
from storage.models import Customer, Ticket, TicketEvent

BATCH = 2000
TOP_UNANSWERED = 5
NOT_HELPED = "not solved"  # comment of the reopen after "Did this solve it? No"
LOW_RATING_REOPEN = "low_rating"  # comment of the reopen after a low rating

T = Ticket.__table__  # type: ignore[attr-defined]
E = TicketEvent.__table__  # type: ignore[attr-defined]
C = Customer.__table__  # type: ignore[attr-defined]
K = KbQuery.__table__  # type: ignore[attr-defined]


def raw_time(column: Any) -> Any:
    """A timestamp read without SQLAlchemy's per-value processing (see `utc`): SQLite gives
    its stored text, PostgreSQL a datetime; reading 40,000 tickets this halves the time."""
    return type_coerce(column, String()).label(column.name)


def utc(value: Any) -> datetime | None:
    """A stored timestamp as aware UTC (SQLite keeps UTC as naive text)."""
    if value is None:
        return None
    if isinstance(value, str):
        # Parsing with the offset appended is one call instead of two (0.2 s a report).
        if value[-6:-5] in ("+", "-"):
            return datetime.fromisoformat(value).astimezone(UTC)
        return datetime.fromisoformat(value + "+00:00")
    if value.tzinfo is UTC:  # what asyncpg gives for timestamptz: nothing to convert
        return cast(datetime, value)
    if value.tzinfo is None:
        return cast(datetime, value.replace(tzinfo=UTC))
    return cast(datetime, value.astimezone(UTC))


FACT_COLUMNS = (
    T.c.id,
    T.c.number,
    raw_time(T.c.created_at),
    T.c.status,
    T.c.priority,
    T.c.category,
    T.c.kind,
    T.c.channel,
    func.coalesce(C.c.locale, "").label("locale"),
    T.c.team,
    T.c.assignee_id,
    raw_time(T.c.first_response_at),
    raw_time(T.c.resolved_at),
    raw_time(T.c.closed_at),
    T.c.resolution_type,
    T.c.root_cause,
    T.c.rating,
    T.c.rating_comment,
    raw_time(T.c.rated_at),
    raw_time(T.c.survey_sent_at),
)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    previous_start: datetime
    as_of: datetime
    day_starts: tuple[datetime, ...] = ()
    """UTC start of each local day of the period after its first (see `day_index`)."""


def day_index(column: Any, day_starts: Sequence[datetime]) -> Any:
    """The period's local day (0 for the first) of a moment in the period, in SQL: a CASE
    that bisects the day boundaries, so a year costs nine comparisons a row, not 365."""
    if not day_starts:
        return literal(0)

    def branch(lo: int, hi: int) -> Any:  # the day among lo..hi
        if lo == hi:
            return literal(lo)
        middle = (lo + hi + 1) // 2
        return case(
            (column < day_starts[middle - 1], branch(lo, middle - 1)), else_=branch(middle, hi)
        )

    return branch(0, len(day_starts))


def _between(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _resolved_event(start: datetime, end: datetime) -> ColumnElement[bool]:
    """A status event that resolves a ticket: to `resolved`, or to `closed` without one."""
    return and_(
        E.c.kind == "status",
        E.c.to_status.in_(("resolved", "closed")),  # lets the (kind, to_status, at) index serve
        _between(E.c.at, start, end),
        or_(
            E.c.to_status == "resolved",
            and_(E.c.to_status == "closed", E.c.from_status != "resolved"),
        ),
    )


def _resolution_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    """The ticket's resolution moment (see `TicketFacts.resolution_moment`) is in the range."""
    return or_(
        _between(T.c.resolved_at, start, end),
        and_(
            T.c.resolved_at.is_(None), T.c.status == "closed", _between(T.c.closed_at, start, end)
        ),
    )


def _facts_select(where: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*FACT_COLUMNS)
        .select_from(T.outerjoin(C, C.c.id == T.c.customer_id))
        .where(where)
        .order_by(T.c.id)
    )


def stream(connection: Connection, statement: Any) -> Iterator[Any]:
    result = connection.execute(statement.execution_options(yield_per=BATCH))
    # Whole batches: row by row iteration costs a few microseconds more per row.
    for batch in result.partitions():
        yield from batch


_TIME_POSITIONS = (2, 11, 12, 13, 18, 19)  # of FACT_COLUMNS, in TicketFacts' field order


def fact_of(row: Any) -> TicketFacts:
    values = list(row)
    for position in _TIME_POSITIONS:
        values[position] = utc(values[position])
    return TicketFacts(*values)


def backlog_statuses(connection: Connection, as_of: datetime) -> tuple[dict[int, str], list[int]]:
    """Tickets open at ``as_of`` with their status then, and the tickets changed since.

    A ticket changed after ``as_of`` had, at ``as_of``, the status its first later event moved
    it from; any other ticket still has the status it had then.
    """
    events: list[tuple[int, str | None]] = [
        (row[0], row[1])
        for row in connection.execute(
            select(E.c.ticket_id, E.c.from_status)
            .where(E.c.kind == "status", E.c.at >= as_of)
            .order_by(E.c.ticket_id, E.c.at, E.c.id)
        )
    ]
    created_later: set[int] = set()
    changed_ids = sorted({ticket_id for ticket_id, _ in events})
    for start in range(0, len(changed_ids), BATCH):
        chunk = changed_ids[start : start + BATCH]
        created_later.update(
            connection.execute(
                select(T.c.id).where(T.c.id.in_(chunk), T.c.created_at >= as_of)
            ).scalars()
        )
    later = [(ticket_id, status) for ticket_id, status in events if ticket_id not in created_later]
    then: dict[int, str | None] = {}
    for ticket_id, from_status in later:
        then.setdefault(ticket_id, from_status)
    states = {
        ticket_id: status
        for ticket_id, status in connection.execute(
            select(T.c.id, T.c.status).where(T.c.status.in_(OPEN_STATUSES), T.c.created_at < as_of)
        )
        if ticket_id not in then
    }
    states.update({i: s for i, s in then.items() if s in OPEN_STATUSES})
    return dict(sorted(states.items())), sorted(then)


def attach_events(connection: Connection, facts: dict[int, TicketFacts], ids: Any) -> None:
    """Waiting stretches and reopen counts of the tickets in ``facts`` (``ids``: a subquery
    or a list of their ids)."""
    rows = stream(
        connection,
        select(E.c.ticket_id, raw_time(E.c.at), E.c.from_status, E.c.to_status)
        .where(
            E.c.kind == "status",
            E.c.ticket_id.in_(ids),
            or_(
                E.c.from_status == "waiting_customer",
                E.c.to_status.in_(("waiting_customer", "reopened")),
            ),
        )
        .order_by(E.c.ticket_id, E.c.at, E.c.id),
    )
    for ticket_id, raw_at, from_status, to_status in rows:
        ticket = facts.get(ticket_id)
        if ticket is None:
            continue
        at = utc(raw_at)
        assert at is not None
        if from_status == "waiting_customer" and ticket.waiting and ticket.waiting[-1][1] is None:
            ticket.waiting[-1] = (ticket.waiting[-1][0], at)
        if to_status == "waiting_customer":
            ticket.waiting.append((at, None))
        if to_status == "reopened":
            ticket.reopens += 1


def load_facts(connection: Connection, window: Window, changed: Sequence[int]) -> list[TicketFacts]:
    """Tickets created, resolved, surveyed or rated in the period, and the open backlog
    (``changed``: tickets whose status changed after ``as_of``)."""
    start, end = window.start, window.end
    where = or_(
        _between(T.c.created_at, start, end),
        _resolution_in(start, end),
        _between(T.c.survey_sent_at, start, end),
        _between(T.c.rated_at, start, end),
        and_(T.c.status.in_(OPEN_STATUSES), T.c.created_at < window.as_of),
        T.c.id.in_(list(changed)) if changed else literal(False),
    )
    facts = {row.id: fact_of(row) for row in stream(connection, _facts_select(where))}
    ids = select(T.c.id).where(where)
    attach_events(connection, facts, ids)
    return list(facts.values())


def load_counts(connection: Connection, window: Window, backlog: dict[int, str]) -> Counts:
    start, end, previous = window.start, window.end, window.previous_start
    locale = func.coalesce(C.c.locale, "")
    created_by = {
        (row[0], row[1] or "-", row[2], row[3], row[4], row[5]): int(row[6])
        for row in connection.execute(
            select(
                T.c.category, T.c.team, T.c.priority, T.c.kind, locale, T.c.channel, func.count()
            )
            .select_from(T.outerjoin(C, C.c.id == T.c.customer_id))
            .where(_between(T.c.created_at, start, end))
            .group_by(T.c.category, T.c.team, T.c.priority, T.c.kind, locale, T.c.channel)
        )
    }
    day = day_index(T.c.created_at, window.day_starts)
    created_by_day = {
        (int(row[0]), str(row[1])): int(row[2])
        for row in connection.execute(
            select(day, T.c.category, func.count())
            .where(_between(T.c.created_at, start, end))
            .group_by(day, T.c.category)
            .order_by(day, T.c.category)
        )
    }
    previous_created = connection.execute(
        select(func.count()).select_from(T).where(_between(T.c.created_at, previous, start))
    ).scalar_one()
    resolved, previous_resolved = (
        connection.execute(
            select(func.count(distinct(E.c.ticket_id))).where(_resolved_event(lo, hi))
        ).scalar_one()
        for lo, hi in ((start, end), (previous, start))
    )
    reopen = and_(E.c.kind == "status", E.c.to_status == "reopened", _between(E.c.at, start, end))
    reopened, not_helped, low_rating = connection.execute(
        select(
            func.count(distinct(E.c.ticket_id)),
            func.count(distinct(case((E.c.comment == NOT_HELPED, E.c.ticket_id)))),
            func.count(distinct(case((E.c.comment == LOW_RATING_REOPEN, E.c.ticket_id)))),
        ).where(reopen)
    ).one()
    previous_causes = {
        (row[0], row[1]): int(row[2])
        for row in connection.execute(
            select(T.c.category, T.c.root_cause, func.count())
            .where(T.c.root_cause.is_not(None), _resolution_in(previous, start))
            .group_by(T.c.category, T.c.root_cause)
        )
    }
    asked_in = _between(K.c.asked_at, start, end)
    asked, answered, helpful = connection.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((K.c.decision == "answer", 1), else_=0)), 0),
            func.coalesce(func.sum(case((K.c.helpful.is_(True), 1), else_=0)), 0),
        ).where(asked_in)
    ).one()
    unanswered = [
        (str(row[0]), int(row[1]))
        for row in connection.execute(
            select(K.c.text, func.count().label("n"))
            .where(asked_in, or_(K.c.decision == "none", K.c.helpful.is_(False)))
            .group_by(K.c.text)
            .order_by(func.count().desc(), K.c.text)
            .limit(TOP_UNANSWERED)
        )
    ]
    return Counts(
        created_by=created_by,
        created_by_day=created_by_day,
        previous_created=int(previous_created),
        resolved=int(resolved),
        previous_resolved=int(previous_resolved),
        reopened=int(reopened),
        reopened_not_helped=int(not_helped),
        reopened_low_rating=int(low_rating),
        backlog_statuses=backlog,
        previous_causes=previous_causes,
        kb_asked=int(asked),
        kb_answered=int(answered),
        kb_helpful=int(helpful),
        kb_unanswered=unanswered,
    )


def load(connection: Connection, window: Window) -> tuple[list[TicketFacts], Counts]:
    """Everything one report needs, in one read transaction."""
    backlog, changed = backlog_statuses(connection, window.as_of)
    facts = load_facts(connection, window, changed)
    counts = load_counts(connection, window, backlog)
    return facts, counts


def agent_names(connection: Connection) -> dict[int, str]:
    from storage.staff_models import Agent

    agents = Agent.__table__  # type: ignore[attr-defined]
    return {
        int(row[0]): str(row[1] or row[2] or row[0])
        for row in connection.execute(
            select(agents.c.telegram_id, agents.c.display_name, agents.c.username)
        )
    }
