"""What one report reads: the times of the tickets created or resolved in the period, the
tickets open at its end, and everything else counted in SQL (the same statements on SQLite and
PostgreSQL). Durations need each ticket's times (business hours, waiting), so
their medians are computed in Python (`metrics`) from sorted values.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, and_, case, distinct, func, or_, select, text

from bot.services.analytics.metrics import NO_TEAM, OPEN_STATUSES, Counts, OpenTicket, TicketTimes
from bot.services.analytics.metrics.facts import GroupKeys, VolumeKey, group_keys
from bot.services.analytics.metrics.satisfaction import LOW_RATING, LOW_RATINGS_SHOWN
from bot.services.analytics.queries import (
    TIME_COLUMNS,
    C,
    E,
    K,
    T,
    Window,
    attach_waiting,
    between,
    chunks,
    day_index,
    raw,
    resolution_in,
    times_by_id,
    utc,
)
from storage.models import SQL_OPEN_STATUSES

TOP_UNANSWERED = 5
NOT_HELPED = "not solved"  # comment of the reopen after "Did this solve it? No"
LOW_RATING_REOPEN = "low_rating"  # comment of the reopen after a low rating


def backlog(connection: Connection, as_of: datetime) -> list[OpenTicket]:
    """Tickets open at ``as_of`` with their status then.

    A ticket changed after ``as_of`` had, at ``as_of``, the status its first later event moved
    it from; any other ticket still has the status it has now (open ones: a partial index).
    """
    then: dict[int, str | None] = {}
    for ticket_id, from_status in connection.execute(
        select(E.c.ticket_id, E.c.from_status)
        .where(E.c.kind == "status", E.c.at >= as_of)
        .order_by(E.c.ticket_id, E.c.at, E.c.id)
    ):
        then.setdefault(ticket_id, from_status)
    columns = (T.c.id, T.c.number, raw(T.c.created_at), T.c.assignee_id)
    tickets = [
        OpenTicket(row[0], row[1], cast(datetime, utc(row[2])), row[4], row[3])
        for row in connection.execute(
            select(*columns, T.c.status).where(text(SQL_OPEN_STATUSES), T.c.created_at < as_of)
        )
        if row[0] not in then
    ]
    for chunk in chunks(i for i, status in then.items() if status in OPEN_STATUSES):
        tickets.extend(
            OpenTicket(row[0], row[1], cast(datetime, utc(row[2])), str(then[row[0]]), row[3])
            for row in connection.execute(
                select(*columns).where(T.c.id.in_(chunk), T.c.created_at < as_of)
            )
        )
    tickets.sort(key=lambda ticket: ticket.id)
    return tickets


def ticket_times(connection: Connection, window: Window) -> list[TicketTimes]:
    """Tickets created or resolved in the period, with their stretches waiting."""
    where = or_(
        between(T.c.created_at, window.start, window.end), resolution_in(window.start, window.end)
    )
    # One buffered result, fetched at once: a server-side cursor (`stream`) costs a round
    # trip per batch on PostgreSQL, iterating a cursor a call per row on SQLite.
    tickets = times_by_id(connection.execute(select(*TIME_COLUMNS).where(where)).all())
    attach_waiting(connection, tickets)
    return list(tickets.values())


def _ratings(connection: Connection, window: Window) -> dict[str, Any]:
    start, end = window.start, window.end
    rated = and_(T.c.rating.is_not(None), between(T.c.rated_at, start, end))
    sent, answered = connection.execute(
        select(func.count(), func.count(T.c.rating)).where(between(T.c.survey_sent_at, start, end))
    ).one()
    keys = (T.c.category, T.c.team, T.c.assignee_id, T.c.priority, T.c.rating)
    by: dict[tuple[GroupKeys, int], int] = defaultdict(int)
    for *group, rating, n in connection.execute(
        select(*keys, func.count()).where(rated).group_by(*keys)
    ):
        by[(group_keys(*group), int(rating))] += int(n)
    day = day_index(T.c.rated_at, window.day_starts)
    by_day = {
        (int(row[0]), int(row[1])): int(row[2])
        for row in connection.execute(
            select(day, T.c.rating, func.count()).where(rated).group_by(day, T.c.rating)
        )
    }
    low = [
        (str(row[0]), int(row[1]), row[2])
        for row in connection.execute(
            select(T.c.number, T.c.rating, T.c.rating_comment)
            .where(rated, T.c.rating <= LOW_RATING)
            .order_by(T.c.rating, T.c.number)
            .limit(LOW_RATINGS_SHOWN)
        )
    ]
    return {
        "surveys_sent": int(sent),
        "surveys_answered": int(answered),
        "ratings_by": dict(by),
        "ratings_by_day": by_day,
        "low_ratings": low,
    }


def _volume(connection: Connection, window: Window) -> dict[str, Any]:
    start, end, previous = window.start, window.end, window.previous_start
    locale = func.coalesce(C.c.locale, "")
    day = day_index(T.c.created_at, window.day_starts)
    keys = (T.c.category, T.c.team, T.c.priority, T.c.kind, locale, T.c.channel)
    created_by: dict[VolumeKey, int] = defaultdict(int)
    created_by_day: dict[tuple[int, str], int] = defaultdict(int)
    for index, category, team, *rest, n in connection.execute(
        select(day, *keys, func.count())
        .select_from(T.outerjoin(C, C.c.id == T.c.customer_id))
        .where(between(T.c.created_at, start, end))
        .group_by(day, *keys)
    ):
        created_by[(category, team or NO_TEAM, *rest)] += int(n)
        created_by_day[(int(index), str(category))] += int(n)
    previous_created = connection.execute(
        select(func.count()).select_from(T).where(between(T.c.created_at, previous, start))
    ).scalar_one()
    resolved, previous_resolved = connection.execute(
        select(
            func.count(distinct(case((E.c.at >= start, E.c.ticket_id)))),
            func.count(distinct(case((E.c.at < start, E.c.ticket_id)))),
        ).where(_resolved_event(previous, end))
    ).one()
    reopen = and_(E.c.kind == "status", E.c.to_status == "reopened", between(E.c.at, start, end))
    reopened, not_helped, low_rating = connection.execute(
        select(
            func.count(distinct(E.c.ticket_id)),
            func.count(distinct(case((E.c.comment == NOT_HELPED, E.c.ticket_id)))),
            func.count(distinct(case((E.c.comment == LOW_RATING_REOPEN, E.c.ticket_id)))),
        ).where(reopen)
    ).one()
    return {
        "created_by": dict(created_by),
        "created_by_day": dict(created_by_day),
        "previous_created": int(previous_created),
        "resolved": int(resolved),
        "previous_resolved": int(previous_resolved),
        "reopened": int(reopened),
        "reopened_not_helped": int(not_helped),
        "reopened_low_rating": int(low_rating),
    }


def _resolved_event(start: datetime, end: datetime) -> Any:
    """A status event that resolves a ticket: to `resolved`, or to `closed` without one."""
    return and_(
        E.c.kind == "status",
        E.c.to_status.in_(("resolved", "closed")),  # lets the (kind, to_status, at) index serve
        between(E.c.at, start, end),
        or_(
            E.c.to_status == "resolved",
            and_(E.c.to_status == "closed", E.c.from_status != "resolved"),
        ),
    )


def _outcomes(connection: Connection, window: Window) -> dict[str, Any]:
    """Decisions and causes of the tickets resolved in the period, and the causes of those
    resolved in the previous one (one pass over both)."""
    start = window.start
    current = case(
        (T.c.resolved_at.is_not(None), T.c.resolved_at >= start), else_=T.c.closed_at >= start
    )
    keys = (current, T.c.category, T.c.kind, T.c.resolution_type, T.c.root_cause)
    decisions: dict[tuple[str, str, str], int] = defaultdict(int)
    causes: dict[tuple[str, str], int] = defaultdict(int)
    previous_causes: dict[tuple[str, str], int] = defaultdict(int)
    for in_period, category, kind, resolution, cause, n in connection.execute(
        select(*keys, func.count())
        .where(
            or_(T.c.resolution_type.is_not(None), T.c.root_cause.is_not(None)),
            resolution_in(window.previous_start, window.end),
        )
        .group_by(*keys)
    ):
        if in_period and resolution is not None:
            decisions[(category, kind, resolution)] += int(n)
        if cause:
            (causes if in_period else previous_causes)[(category, cause)] += int(n)
    return {
        "decisions": dict(decisions),
        "causes": dict(causes),
        "previous_causes": dict(previous_causes),
    }


def _knowledge(connection: Connection, window: Window) -> dict[str, Any]:
    asked_in = between(K.c.asked_at, window.start, window.end)
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
    return {
        "kb_asked": int(asked),
        "kb_answered": int(answered),
        "kb_helpful": int(helpful),
        "kb_unanswered": unanswered,
    }


def load(connection: Connection, window: Window) -> tuple[list[TicketTimes], Counts]:
    """Everything one report needs, in one read transaction."""
    counts = Counts(
        **_volume(connection, window),
        backlog=backlog(connection, window.as_of),
        **_ratings(connection, window),
        **_outcomes(connection, window),
        **_knowledge(connection, window),
    )
    return ticket_times(connection, window), counts
