"""SQL of the scheduled sweeps: set-based claims on indexed times, bulk events and outbox rows.

A claim is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) AND mark IS NULL RETURNING``:
it finds the tickets that need an action and marks them done in the same statement, so a
sweep that runs twice (or on two connections at once) acts on each ticket exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    TextClause,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    SQL_ACTIVE_STATUSES,
    SQL_OPEN_STATUSES,
    Customer,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from storage.repositories import OUTBOX_INSERT_NEW, dialect_of

SlaTargetName = Literal["first_response", "resolution"]

TICKETS: Table = Ticket.__table__  # type: ignore[attr-defined]
EVENTS: Table = TicketEvent.__table__  # type: ignore[attr-defined]
CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
MESSAGES: Table = TicketMessage.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ClaimedTicket:
    id: int
    number: str
    customer_id: int
    priority: str
    topic_id: int | None
    assignee_id: int | None
    due: datetime | None


@dataclass(frozen=True, slots=True)
class Recipient:
    customer_id: int
    telegram_id: int
    locale: str
    reachable: bool


@dataclass(frozen=True, slots=True)
class StillWorkingCandidate:
    id: int
    created_at: datetime
    first_response_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxDraft:
    key: str
    chat_id: int
    payload: dict[str, Any]
    ticket_id: int | None = None
    thread_id: int | None = None
    kind: str = "text"


@dataclass(frozen=True, slots=True)
class EventDraft:
    ticket_id: int
    kind: str
    data: dict[str, Any]
    actor_kind: str = "system"
    actor_id: int | None = None


def _target_columns(target: SlaTargetName) -> tuple[Any, Any, Any, str]:
    """Due, warned and breached columns of a target and the statuses its clock runs in."""
    c = TICKETS.c
    if target == "first_response":
        return (
            c.first_response_due,
            c.first_response_warned_at,
            c.first_response_breached_at,
            (SQL_OPEN_STATUSES),
        )
    return c.resolution_due, c.resolution_warned_at, c.resolution_breached_at, SQL_ACTIVE_STATUSES


class SweepRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return dialect_of(self.session)

    async def _rows(self, statement: Select[Any]) -> list[tuple[Any, ...]]:
        # sqlmodel types exec() for its own select(); plain Core selects run the same way.
        result = await self.session.exec(statement)  # type: ignore[call-overload]
        return [tuple(row) for row in result.all()]

    async def _claim(
        self,
        conditions: Sequence[ColumnElement[bool] | TextClause],
        *,
        order_by: Any,
        marks: dict[str, Any],
        guard: Any,
        due: Any,
        limit: int,
    ) -> list[ClaimedTicket]:
        c = TICKETS.c
        chosen = select(c.id).where(*conditions).order_by(order_by).limit(limit)
        statement = (
            update(TICKETS)
            .where(c.id.in_(chosen.scalar_subquery()), guard.is_(None))
            .values(**marks)
            .returning(c.id, c.number, c.customer_id, c.priority, c.topic_id, c.assignee_id, due)
        )
        result = await self.session.exec(statement)
        rows = [ClaimedTicket(*row) for row in result.all()]
        return sorted(rows, key=lambda row: row.id)

    async def claim_breaches(
        self, *, target: SlaTargetName, now: datetime, limit: int
    ) -> list[ClaimedTicket]:
        """Tickets whose ``target`` fell due by ``now`` and were not marked breached yet.

        Marks them breached (and warned, so a late sweep never warns after the fact).
        """
        due, warned, breached, statuses = _target_columns(target)
        conditions: list[ColumnElement[bool] | TextClause] = [
            text(statuses),
            breached.is_(None),
            due <= now,
        ]
        if target == "first_response":
            conditions.append(TICKETS.c.first_response_at.is_(None))
        return await self._claim(
            conditions,
            order_by=due,
            marks={breached.key: now, warned.key: func.coalesce(warned, now)},
            guard=breached,
            due=due,
            limit=limit,
        )

    async def claim_warnings(
        self,
        *,
        target: SlaTargetName,
        now: datetime,
        bounds: Mapping[str, datetime],
        limit: int,
    ) -> list[ClaimedTicket]:
        """Tickets not yet due whose due time is at or before their priority's bound.

        ``bounds[priority]`` is the latest due time at which the warning share of the
        target has passed at ``now``; priorities missing from ``bounds`` are never warned.
        """
        if not bounds:
            return []
        due, warned, _breached, statuses = _target_columns(target)
        c = TICKETS.c
        conditions: list[ColumnElement[bool] | TextClause] = [
            text(statuses),
            warned.is_(None),
            due > now,
            due <= max(bounds.values()),
            or_(*(and_(c.priority == name, due <= bound) for name, bound in bounds.items())),
        ]
        if target == "first_response":
            conditions.append(c.first_response_at.is_(None))
        return await self._claim(
            conditions, order_by=due, marks={warned.key: now}, guard=warned, due=due, limit=limit
        )

    async def still_working_candidates(
        self, *, now: datetime, period: timedelta, limit: int
    ) -> list[StillWorkingCandidate]:
        """Active tickets whose next "still working" check has come.

        Never checked yet: created one period ago or earlier; checked before: the stored
        next check has come. Two range queries on one index (an OR defeats SQLite's planner).
        """
        c = TICKETS.c
        columns = (c.id, c.created_at, c.first_response_at)
        unchecked = (
            select(*columns)
            .where(
                text(SQL_ACTIVE_STATUSES),
                c.still_working_at.is_(None),
                c.created_at <= now - period,
            )
            .limit(limit)
        )
        rows = await self._rows(unchecked)
        if len(rows) < limit:
            rechecks = (
                select(*columns)
                .where(text(SQL_ACTIVE_STATUSES), c.still_working_at <= now)
                .limit(limit - len(rows))
            )
            rows += await self._rows(rechecks)
        return [StillWorkingCandidate(*row) for row in rows]

    async def last_staff_activity(self, *, ticket_ids: Sequence[int]) -> dict[int, datetime]:
        """When staff last wrote to the customer or acted on each ticket."""
        if not ticket_ids:
            return {}
        latest: dict[int, datetime] = {}
        messages = (
            select(MESSAGES.c.ticket_id, func.max(MESSAGES.c.created_at))
            .where(MESSAGES.c.ticket_id.in_(ticket_ids), MESSAGES.c.direction == "out")
            .group_by(MESSAGES.c.ticket_id)
        )
        events = (
            select(EVENTS.c.ticket_id, func.max(EVENTS.c.at))
            .where(EVENTS.c.ticket_id.in_(ticket_ids), EVENTS.c.actor_kind == "agent")
            .group_by(EVENTS.c.ticket_id)
        )
        for statement in (messages, events):
            for ticket_id, at in await self._rows(statement):
                if at is not None and (ticket_id not in latest or at > latest[ticket_id]):
                    latest[ticket_id] = at
        return latest

    async def set_still_working_at(self, *, next_checks: Mapping[int, datetime]) -> None:
        if not next_checks:
            return
        statement = (
            update(TICKETS)
            .where(TICKETS.c.id == bindparam("b_id"))
            .values(still_working_at=bindparam("b_next", type_=TICKETS.c.still_working_at.type))
        )
        await self.session.exec(
            statement,
            params=[{"b_id": key, "b_next": value} for key, value in next_checks.items()],
        )

    async def tickets_by_ids(self, *, ticket_ids: Sequence[int]) -> list[ClaimedTicket]:
        if not ticket_ids:
            return []
        c = TICKETS.c
        rows = await self._rows(
            select(
                c.id,
                c.number,
                c.customer_id,
                c.priority,
                c.topic_id,
                c.assignee_id,
                c.resolution_due,
            )
            .where(c.id.in_(ticket_ids))
            .order_by(c.id)
        )
        return [ClaimedTicket(*row) for row in rows]

    async def resolved_before(self, *, before: datetime, limit: int) -> list[int]:
        c = TICKETS.c
        rows = await self._rows(
            select(c.id)
            .where(c.status == "resolved", c.resolved_at <= before)
            .order_by(c.resolved_at)
            .limit(limit)
        )
        return [row[0] for row in rows]

    async def claim_surveys(
        self, *, resolved_before: datetime, now: datetime, limit: int
    ) -> list[ClaimedTicket]:
        """Resolved, unrated tickets past the survey delay that have had no survey yet."""
        c = TICKETS.c
        return await self._claim(
            [
                c.status == "resolved",
                c.survey_sent_at.is_(None),
                c.resolved_at <= resolved_before,
                c.rating.is_(None),
            ],
            order_by=c.resolved_at,
            marks={"survey_sent_at": now},
            guard=c.survey_sent_at,
            due=c.resolved_at,
            limit=limit,
        )

    async def claim_reminders(
        self, *, sent_before: datetime, now: datetime, limit: int
    ) -> list[ClaimedTicket]:
        """Resolved tickets whose survey, sent before ``sent_before``, is still unanswered."""
        c = TICKETS.c
        return await self._claim(
            [
                c.status == "resolved",
                c.survey_reminded_at.is_(None),
                c.survey_sent_at <= sent_before,
                c.rating.is_(None),
            ],
            order_by=c.survey_sent_at,
            marks={"survey_reminded_at": now},
            guard=c.survey_reminded_at,
            due=c.resolved_at,
            limit=limit,
        )

    async def recipients(self, *, customer_ids: Sequence[int]) -> dict[int, Recipient]:
        if not customer_ids:
            return {}
        c = CUSTOMERS.c
        rows = await self._rows(
            select(c.id, c.telegram_id, c.locale, c.is_banned, c.is_unreachable).where(
                c.id.in_(sorted(set(customer_ids)))
            )
        )
        return {row[0]: Recipient(row[0], row[1], row[2], not (row[3] or row[4])) for row in rows}

    async def add_events(self, *, events: Sequence[EventDraft], at: datetime) -> None:
        if not events:
            return
        await self.session.exec(
            insert(EVENTS),
            params=[
                {
                    "ticket_id": event.ticket_id,
                    "at": at,
                    "kind": event.kind,
                    "actor_kind": event.actor_kind,
                    "actor_id": event.actor_id,
                    "from_status": None,
                    "to_status": None,
                    "comment": None,
                    "data": event.data,
                }
                for event in events
            ],
        )

    async def enqueue(self, *, messages: Sequence[OutboxDraft], now: datetime) -> None:
        """Add outbox rows in bulk; a key that already exists is left alone."""
        if not messages:
            return
        await self.session.exec(
            OUTBOX_INSERT_NEW[self._dialect],
            params=[
                {
                    "key": message.key,
                    "chat_id": message.chat_id,
                    "thread_id": message.thread_id,
                    "kind": message.kind,
                    "payload": message.payload,
                    "ticket_id": message.ticket_id,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "last_error": None,
                    "sent_message_id": None,
                    "created_at": now,
                    "sent_at": None,
                }
                for message in messages
            ],
        )
