"""SQL shared by the report and the export: the same Core statements on SQLite and PostgreSQL.

Every function takes a synchronous `Connection`: on SQLite it is a read-only connection in a
worker thread, on PostgreSQL the async driver's connection seen through `run_sync` (see
`reader.py`). Large results are read in batches (`yield_per`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
)

from bot.services.analytics.metrics import TicketFacts, TicketTimes
from storage.kb_models import KbQuery
from storage.models import Customer, Ticket, TicketEvent

BATCH = 2000

T = Ticket.__table__  # type: ignore[attr-defined]
E = TicketEvent.__table__  # type: ignore[attr-defined]
C = Customer.__table__  # type: ignore[attr-defined]
K = KbQuery.__table__  # type: ignore[attr-defined]


def raw(column: Any) -> Any:
    """A column read without SQLAlchemy's per-value processing: a timestamp as the driver
    gives it (SQLite its stored text, PostgreSQL a datetime; see `utc`), a status or priority
    as its plain string. Reading 40,000 tickets this halves the time."""
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


def between(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def resolution_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    """The ticket's resolution moment (see `TicketTimes.resolution_moment`) is in the range."""
    return or_(
        between(T.c.resolved_at, start, end),
        and_(T.c.resolved_at.is_(None), T.c.status == "closed", between(T.c.closed_at, start, end)),
    )


def stream(connection: Connection, statement: Any) -> Iterator[Any]:
    result = connection.execute(statement.execution_options(yield_per=BATCH))
    # Whole batches: row by row iteration costs a few microseconds more per row.
    for batch in result.partitions():
        yield from batch


def chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    """Ids in lists of `BATCH`: within both databases' limits on bound parameters."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH):
        yield ordered[start : start + BATCH]


TIME_COLUMNS = (
    T.c.id,
    raw(T.c.created_at),
    raw(T.c.status),
    raw(T.c.priority),
    T.c.category,
    T.c.team,
    T.c.assignee_id,
    raw(T.c.first_response_at),
    raw(T.c.resolved_at),
    raw(T.c.closed_at),
)
EXTRA_COLUMNS = (
    T.c.number,
    T.c.kind,
    T.c.channel,
    func.coalesce(C.c.locale, "").label("locale"),
    T.c.resolution_type,
    T.c.root_cause,
    T.c.rating,
)
FACT_COLUMNS = (*TIME_COLUMNS, *EXTRA_COLUMNS)
"""What the export reads of a ticket (join the customers for the locale)."""


def _times(row: Any) -> tuple[Any, ...]:
    """TicketTimes' fields of a row of `TIME_COLUMNS` (in that order)."""
    return (*row[:1], utc(row[1]), *row[2:7], utc(row[7]), utc(row[8]), utc(row[9]))


def times_by_id(rows: Sequence[Any]) -> dict[int, TicketTimes]:
    """`TicketTimes` of rows of `TIME_COLUMNS`, by id. Rows whose moments already are aware
    UTC datetimes (asyncpg's timestamptz) are taken as they are: converting each moment of
    40,000 tickets was a fifth of a report's CPU time."""
    if rows and isinstance(rows[0][1], datetime) and rows[0][1].tzinfo is UTC:
        return {row[0]: TicketTimes(*row) for row in rows}
    return {row[0]: TicketTimes(*_times(row)) for row in rows}


def fact_of(row: Any) -> TicketFacts:
    extras = {column.name: value for column, value in zip(EXTRA_COLUMNS, row[10:], strict=True)}
    return TicketFacts(*_times(row), **extras)


WAITING = "waiting_customer"


def _changes(
    connection: Connection, ids: Iterable[int], *, reopens: bool
) -> Iterator[tuple[int, datetime, str | None, str | None]]:
    """Status events that start or end a wait (and reopens) of the tickets ``ids``, in the
    order they happened."""
    targets = (WAITING, "reopened") if reopens else (WAITING,)
    for chunk in chunks(ids):
        rows = stream(
            connection,
            select(E.c.ticket_id, raw(E.c.at), E.c.from_status, E.c.to_status)
            .where(
                E.c.ticket_id.in_(chunk),
                E.c.kind == "status",
                or_(E.c.from_status == WAITING, E.c.to_status.in_(targets)),
            )
            .order_by(E.c.ticket_id, E.c.at, E.c.id),
        )
        for ticket_id, raw_at, from_status, to_status in rows:
            yield ticket_id, cast(datetime, utc(raw_at)), from_status, to_status


def _wait(
    ticket: TicketTimes, at: datetime, from_status: str | None, to_status: str | None
) -> None:
    if from_status == WAITING and ticket.waiting and ticket.waiting[-1][1] is None:
        ticket.waiting[-1] = (ticket.waiting[-1][0], at)
    if to_status == WAITING:
        ticket.waiting.append((at, None))


def attach_waiting(connection: Connection, tickets: Mapping[int, TicketTimes]) -> None:
    """The stretches waiting for the customer of ``tickets``, in one statement.

    Only tickets that ever waited are read: those with a move to ``waiting_customer`` since
    the earliest creation among them, found in the (kind, to_status, at, ticket_id) index,
    then their events by ticket (a join that drives from that list, so both databases use the
    ticket index whatever their statistics). Events of other tickets that waited since then
    are skipped here: cheaper than sending thousands of ids as parameters.
    """
    if not tickets:
        return
    earliest = min(ticket.created_at for ticket in tickets.values())
    waited = (
        select(E.c.ticket_id)
        .where(E.c.kind == "status", E.c.to_status == WAITING, E.c.at >= earliest)
        .distinct()
        .subquery()
    )
    rows = connection.execute(
        select(E.c.ticket_id, raw(E.c.at), raw(E.c.from_status), raw(E.c.to_status))
        .join_from(waited, E, E.c.ticket_id == waited.c.ticket_id)
        .where(E.c.kind == "status", or_(E.c.from_status == WAITING, E.c.to_status == WAITING))
        .order_by(E.c.ticket_id, E.c.at, E.c.id)
    ).all()
    for ticket_id, at, from_status, to_status in rows:
        ticket = tickets.get(ticket_id)
        if ticket is not None:
            _wait(ticket, cast(datetime, utc(at)), from_status, to_status)


def attach_events(connection: Connection, facts: Mapping[int, TicketFacts]) -> None:
    """Waiting stretches and reopen counts of the tickets in ``facts`` (the export)."""
    for ticket_id, at, from_status, to_status in _changes(connection, facts, reopens=True):
        ticket = facts[ticket_id]
        _wait(ticket, at, from_status, to_status)
        if to_status == "reopened":
            ticket.reopens += 1


def agent_names(connection: Connection) -> dict[int, str]:
    from storage.staff_models import Agent

    agents = Agent.__table__  # type: ignore[attr-defined]
    return {
        int(row[0]): str(row[1] or row[2] or row[0])
        for row in connection.execute(
            select(agents.c.telegram_id, agents.c.display_name, agents.c.username)
        )
    }
