"""Ticket vocabulary and the state machine: which status may follow which, and its event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"

    @property
    def is_open(self) -> bool:
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class ResolutionType(StrEnum):
    REFUND = "refund"
    REPLACEMENT = "replacement"
    COMPENSATION = "compensation"
    EXPLANATION = "explanation"
    APOLOGY = "apology"
    REJECTED = "rejected"


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class TicketKind(StrEnum):
    COMPLAINT = "complaint"
    QUESTION = "question"


class EventKind(StrEnum):
    """What an entry of a ticket's audit log records."""

    STATUS = "status"
    PRIORITY = "priority"
    ASSIGN = "assign"
    CAUSE = "cause"
    KB_ARTICLE = "kb_article"
    CONFIRMATION = "confirmation"
    BAN = "ban"
    UNBAN = "unban"
    RATING = "rating"
    RATING_CHANGED = "rating_changed"
    RATING_COMMENT = "rating_comment"
    SURVEY_SENT = "survey_sent"
    SURVEY_REMINDER = "survey_reminder"
    STILL_WORKING = "still_working"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    ERASED = "erased"
    ANONYMISED = "anonymised"


OPEN_STATUSES: frozenset[TicketStatus] = frozenset(s for s in TicketStatus if s.is_open)

_ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {
            TicketStatus.IN_PROGRESS,
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.IN_PROGRESS: frozenset(
        {TicketStatus.WAITING_CUSTOMER, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.WAITING_CUSTOMER: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.REOPENED}),
    TicketStatus.CLOSED: frozenset({TicketStatus.REOPENED}),
    TicketStatus.REOPENED: frozenset(
        {
            TicketStatus.IN_PROGRESS,
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
}


class DomainError(Exception):
    """A rule of the support process was broken."""


class IllegalTransition(DomainError):
    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        super().__init__(f"a ticket cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    user_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @classmethod
    def customer(cls, user_id: int) -> Actor:
        return cls(ActorKind.CUSTOMER, user_id)

    @classmethod
    def agent(cls, user_id: int) -> Actor:
        return cls(ActorKind.AGENT, user_id)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What a transition leaves behind: the audit event to store."""

    from_status: TicketStatus | None
    to_status: TicketStatus
    actor: Actor
    at: datetime
    comment: str | None = None


def allowed_targets(current: TicketStatus) -> frozenset[TicketStatus]:
    return _ALLOWED[current]


def transition(
    current: TicketStatus,
    target: TicketStatus,
    *,
    actor: Actor,
    at: datetime,
    comment: str | None = None,
) -> StatusChange:
    """The one place that decides whether a status change is legal."""
    if at.tzinfo is None:
        raise ValueError("transition time must be timezone-aware")
    if target not in _ALLOWED[current]:
        raise IllegalTransition(current, target)
    return StatusChange(current, target, actor, at, comment)


def registration(*, actor: Actor, at: datetime) -> StatusChange:
    """The first event of every ticket: it comes into existence as `new`."""
    if at.tzinfo is None:
        raise ValueError("registration time must be timezone-aware")
    return StatusChange(None, TicketStatus.NEW, actor, at, None)


def format_ticket_number(sequence_value: int) -> str:
    if sequence_value <= 0:
        raise ValueError("ticket sequence starts at 1")
    return f"C-{sequence_value:06d}"
