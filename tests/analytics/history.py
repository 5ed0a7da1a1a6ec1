"""A small known history of the desk, written as the services write it, for exact figures.

All times UTC; the desk's zone is Europe/Moscow (UTC+3). The report period is the week
Mon 2026-11-16 .. Sun 2026-11-22 in Moscow: [2026-11-15 21:00, 2026-11-22 21:00) UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from bot.domain.tickets import ActorKind, EventKind, Priority, ResolutionType, TicketStatus
from bot.services.analytics.periods import Period
from storage.kb_models import KbQuery
from storage.models import Customer, Ticket, TicketEvent
from storage.unit_of_work import Database

WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))
ANNA_ID = 2001
BORIS_ID = 2002


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class Step:
    when: datetime
    to: str
    comment: str | None = None


@dataclass
class Spec:
    number: str
    created: datetime
    category: str
    priority: str
    team: str | None
    assignee: int | None
    locale: str
    steps: list[Step] = field(default_factory=list)
    first_response: datetime | None = None
    resolution_type: str | None = None
    cause: str | None = None
    survey_sent: datetime | None = None
    rating: int | None = None
    rated: datetime | None = None
    comment: str | None = None


SPECS = [
    # Answered in 30 min, waited 10 h for the customer, resolved after 24 h (14 h of work).
    Spec(
        "C-000001",
        at(16, 7),
        "delivery",
        "normal",
        "delivery",
        ANNA_ID,
        "en",
        [
            Step(at(16, 7, 30), "in_progress"),
            Step(at(16, 8), "waiting_customer"),
            Step(at(16, 18), "in_progress"),
            Step(at(17, 7), "resolved"),
        ],
        first_response=at(16, 7, 30),
        resolution_type="refund",
        cause="late_courier",
        survey_sent=at(17, 7, 30),
        rating=5,
        rated=at(17, 8),
    ),
    # Created 00:30 Tuesday in Moscow (still Monday in UTC); answered late (2 h > 1 h);
    # resolved, reopened after "it did not help", resolved again 12 h after creation.
    Spec(
        "C-000002",
        at(16, 21, 30),
        "payment",
        "urgent",
        "payments",
        BORIS_ID,
        "ru",
        [
            Step(at(16, 23, 30), "in_progress"),
            Step(at(17, 3, 30), "resolved"),
            Step(at(17, 5), "reopened", "not solved"),
            Step(at(17, 9, 30), "resolved"),
        ],
        first_response=at(16, 23, 30),
        resolution_type="rejected",
        cause="double_charge",
        survey_sent=at(17, 10),
        rating=2,
        rated=at(17, 11),
        comment="too slow",
    ),
    # Never answered, still new: both targets missed.
    Spec("C-000003", at(18, 10), "delivery", "high", "delivery", None, "ru"),
    # Answered, now waiting for the customer since 13:00: only 1 h of work so far.
    Spec(
        "C-000004",
        at(19, 12),
        "quality",
        "normal",
        "support",
        ANNA_ID,
        "en",
        [Step(at(19, 12, 45), "in_progress"), Step(at(19, 13), "waiting_customer")],
        first_response=at(19, 12, 45),
    ),
    # From the week before, resolved on Monday exactly at its 48 h target, then closed.
    Spec(
        "C-000005",
        at(14, 10),
        "delivery",
        "normal",
        "delivery",
        ANNA_ID,
        "en",
        [Step(at(14, 11), "in_progress"), Step(at(16, 10), "resolved"), Step(at(16, 12), "closed")],
        first_response=at(14, 11),
        resolution_type="replacement",
        cause="late_courier",
        survey_sent=at(16, 12),
    ),
    # The last minute of the week in Moscow.
    Spec("C-000006", at(22, 20, 59), "delivery", "low", "delivery", None, "ru"),
    # The first minute of the next week: outside the period.
    Spec("C-000007", at(22, 21), "delivery", "normal", "delivery", None, "ru"),
    # The previous week: resolved there, with the same cause as two of this week.
    Spec(
        "C-000008",
        at(10, 9),
        "delivery",
        "normal",
        "delivery",
        ANNA_ID,
        "en",
        [Step(at(11, 9), "resolved")],
        first_response=at(11, 9),
        resolution_type="refund",
        cause="late_courier",
    ),
    # In progress at the end of the week, resolved only on Monday after it.
    Spec(
        "C-000009",
        at(20, 9),
        "payment",
        "normal",
        "payments",
        BORIS_ID,
        "ru",
        [Step(at(20, 10), "in_progress"), Step(at(23, 8), "resolved")],
        first_response=at(20, 10),
        resolution_type="explanation",
    ),
]

KB = [
    (at(16, 10), "answer", True, "how long is delivery"),
    (at(17, 10), "answer", False, "how to pay"),
    (at(18, 10), "none", None, "where is my refund"),
    (at(19, 10), "none", None, "where is my refund"),
    (at(23, 10), "none", None, "after the week"),
]


async def build_history(database: Database, specs: Sequence[Spec] = SPECS) -> dict[str, int]:
    """Store the history (``specs``: its tickets); returns ticket ids by number."""
    ids: dict[str, int] = {}
    async with database.unit_of_work() as uow:
        customers: dict[str, int] = {}
        for telegram_id, locale in ((1001, "en"), (1002, "ru")):
            customer = Customer(
                telegram_id=telegram_id,
                first_name="C",
                locale=locale,
                created_at=at(1, 0),
                updated_at=at(1, 0),
            )
            uow.session.add(customer)
            await uow.session.flush()
            assert customer.id is not None
            customers[locale] = customer.id
        for spec in specs:
            status = spec.steps[-1].to if spec.steps else "new"
            resolved = closed = waiting_since = None
            for step in spec.steps:
                resolved = step.when if step.to == "resolved" else resolved
                resolved = None if step.to == "reopened" else resolved
                closed = step.when if step.to == "closed" else closed
                waiting_since = step.when if step.to == "waiting_customer" else None
            ticket = Ticket(
                number=spec.number,
                customer_id=customers[spec.locale],
                category=spec.category,
                priority=Priority(spec.priority),
                team=spec.team,
                assignee_id=spec.assignee,
                status=TicketStatus(status),
                created_at=spec.created,
                updated_at=spec.created,
                first_response_at=spec.first_response,
                resolved_at=resolved,
                closed_at=closed,
                waiting_since=waiting_since,
                resolution_type=ResolutionType(spec.resolution_type)
                if spec.resolution_type
                else None,
                resolution_text="decided" if spec.resolution_type else None,
                root_cause=spec.cause,
                survey_sent_at=spec.survey_sent,
                rating=spec.rating,
                rated_at=spec.rated,
                rating_comment=spec.comment,
            )
            uow.session.add(ticket)
            await uow.session.flush()
            assert ticket.id is not None
            ids[spec.number] = ticket.id
            previous: str | None = None
            events = [Step(spec.created, "new"), *spec.steps]
            for step in events:
                uow.session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        at=step.when,
                        kind=EventKind.STATUS,
                        actor_kind=ActorKind.AGENT if step.to != "reopened" else ActorKind.CUSTOMER,
                        actor_id=spec.assignee,
                        from_status=TicketStatus(previous) if previous else None,
                        to_status=TicketStatus(step.to),
                        comment=step.comment,
                    )
                )
                previous = step.to
        for asked, decision, helpful, text in KB:
            uow.session.add(
                KbQuery(
                    customer_id=customers["ru"],
                    locale="ru",
                    text=text,
                    decision=decision,
                    helpful=helpful,
                    asked_at=asked,
                )
            )
    return ids
