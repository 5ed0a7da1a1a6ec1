"""SQLModel tables: customers, tickets, their messages and attachments, the audit log, counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, Text, text
from sqlmodel import Field, SQLModel

from bot.domain.tickets import (
    ActorKind,
    EventKind,
    Priority,
    ResolutionType,
    TicketKind,
    TicketStatus,
)
from storage.types import EnumText, UTCDateTime


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Customer(SQLModel, table=True):
    __tablename__ = "customers"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    first_name: str = Field(default="", max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    username: str | None = Field(default=None, max_length=64)
    language_code: str | None = Field(default=None, max_length=16)
    locale: str = Field(default="ru", max_length=8)
    phone: str | None = Field(default=None, max_length=32)
    is_banned: bool = Field(default=False)
    is_unreachable: bool = Field(default=False)
    current_ticket_id: int | None = Field(default=None)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# Statuses in which service-level clocks run, spelled as SQL: partial indexes and the sweeps'
# queries use the very same text, so both SQLite and PostgreSQL match the index predicate.
SQL_OPEN_STATUSES = "status IN ('new', 'in_progress', 'waiting_customer', 'reopened')"
SQL_ACTIVE_STATUSES = "status IN ('new', 'in_progress', 'reopened')"


def _sla_index(name: str, *columns: str, where: str) -> Index:
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer_status", "customer_id", "status"),
        _sla_index(
            "ix_tickets_first_warn",
            "first_response_warned_at",
            "priority",
            "first_response_due",
            where=SQL_OPEN_STATUSES,
        ),
        _sla_index(
            "ix_tickets_first_breach",
            "first_response_breached_at",
            "first_response_due",
            where=SQL_OPEN_STATUSES,
        ),
        _sla_index(
            "ix_tickets_resolution_warn",
            "resolution_warned_at",
            "priority",
            "resolution_due",
            where=SQL_ACTIVE_STATUSES,
        ),
        _sla_index(
            "ix_tickets_resolution_breach",
            "resolution_breached_at",
            "resolution_due",
            where=SQL_ACTIVE_STATUSES,
        ),
        _sla_index(
            "ix_tickets_still_working", "still_working_at", "created_at", where=SQL_ACTIVE_STATUSES
        ),
        Index("ix_tickets_status_resolved", "status", "resolved_at"),
        Index("ix_tickets_status_survey", "status", "survey_sent_at", "resolved_at"),
        Index("ix_tickets_status_reminder", "status", "survey_reminded_at", "survey_sent_at"),
        # Analytics: what was resolved, closed, surveyed and rated in a period.
        Index("ix_tickets_resolved_at", "resolved_at"),
        Index("ix_tickets_closed_at", "closed_at"),
        Index("ix_tickets_survey_sent_at", "survey_sent_at"),
        Index("ix_tickets_rated_at", "rated_at"),
        _sla_index("ix_tickets_open_created", "created_at", where=SQL_OPEN_STATUSES),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True, index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    kind: TicketKind = Field(default=TicketKind.COMPLAINT, sa_type=EnumText(TicketKind, 16))
    channel: str = Field(default="telegram", max_length=16)
    category: str = Field(max_length=64, index=True)
    description: str = Field(default="", sa_type=Text)
    incident_date: date | None = None
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    contact_phone: str | None = Field(default=None, max_length=32)
    status: TicketStatus = Field(
        default=TicketStatus.NEW, sa_type=EnumText(TicketStatus, 24), index=True
    )
    priority: Priority = Field(default=Priority.NORMAL, sa_type=EnumText(Priority, 16))
    team: str | None = Field(default=None, max_length=64)
    assignee_id: int | None = Field(default=None, sa_type=BigInteger)
    topic_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    card_message_id: int | None = Field(default=None, sa_type=BigInteger)
    # Knowledge-base entries related to the description, chosen once for the staff card;
    # None: not searched yet.
    kb_articles: list[str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    first_response_at: datetime | None = _utc(nullable=True)
    first_response_due: datetime | None = _utc(nullable=True)
    resolution_due: datetime | None = _utc(nullable=True)
    waiting_since: datetime | None = _utc(nullable=True)
    paused_seconds: int = Field(default=0)
    resolved_at: datetime | None = _utc(nullable=True)
    closed_at: datetime | None = _utc(nullable=True)
    resolution_type: ResolutionType | None = Field(
        default=None, sa_type=EnumText(ResolutionType, 24)
    )
    resolution_text: str | None = Field(default=None, sa_type=Text)
    rating: int | None = None
    rating_comment: str | None = Field(default=None, sa_type=Text)
    rated_at: datetime | None = _utc(nullable=True)
    # Service-level sweeps: when each notice went out (a set mark means "done, never again").
    first_response_warned_at: datetime | None = _utc(nullable=True)
    first_response_breached_at: datetime | None = _utc(nullable=True)
    resolution_warned_at: datetime | None = _utc(nullable=True)
    resolution_breached_at: datetime | None = _utc(nullable=True)
    # Next moment to check for a "still working on it" message; None: created_at + period.
    still_working_at: datetime | None = _utc(nullable=True)
    survey_sent_at: datetime | None = _utc(nullable=True)
    survey_reminded_at: datetime | None = _utc(nullable=True)
    # Why it happened (an id from the root-cause list of its category), picked at resolution.
    root_cause: str | None = Field(default=None, max_length=64)


class TicketMessage(SQLModel, table=True):
    """Everything said about a ticket, both directions, plus what customers wrote outside one."""

    __tablename__ = "ticket_messages"
    # A Telegram message is stored once: an update delivered again makes no second row.
    __table_args__ = (
        Index("uq_ticket_messages_telegram", "chat_id", "telegram_message_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True)
    direction: str = Field(max_length=8)  # "in" (customer), "out" (to customer), "note"
    author_id: int | None = Field(default=None, sa_type=BigInteger)
    content_type: str = Field(default="text", max_length=24)
    text: str | None = Field(default=None, sa_type=Text)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    media_group_id: str | None = Field(default=None, max_length=64)
    update_id: int | None = Field(default=None, sa_type=BigInteger)
    visible_to_customer: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    edited_at: datetime | None = _utc(nullable=True)


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="ticket_messages.id", index=True)
    kind: str = Field(max_length=16)  # photo, document, video, audio, voice, animation
    file_id: str = Field(max_length=256)
    file_unique_id: str = Field(max_length=128)
    file_name: str | None = Field(default=None, max_length=256)
    mime_type: str | None = Field(default=None, max_length=128)
    file_size: int | None = Field(default=None, sa_type=BigInteger)
    media_group_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class TicketEvent(SQLModel, table=True):
    """Audit log: who did what to a ticket and when; also the source of statistics."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_kind_at", "kind", "at"),
        # Analytics: tickets resolved / reopened in a period, read from the index alone.
        Index("ix_ticket_events_kind_to_at", "kind", "to_status", "at", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    kind: EventKind = Field(default=EventKind.STATUS, sa_type=EnumText(EventKind, 32))
    actor_kind: ActorKind = Field(sa_type=EnumText(ActorKind, 16))
    actor_id: int | None = Field(default=None, sa_type=BigInteger)
    from_status: TicketStatus | None = Field(default=None, sa_type=EnumText(TicketStatus, 24))
    to_status: TicketStatus | None = Field(default=None, sa_type=EnumText(TicketStatus, 24))
    comment: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Counter(SQLModel, table=True):
    """Named gap-free counters (ticket numbers) incremented atomically in the database."""

    __tablename__ = "counters"

    name: str = Field(sa_type=String(32), primary_key=True)
    value: int = Field(default=0, sa_type=BigInteger)


class FsmRecord(SQLModel, table=True):
    """Durable conversation state (half-filled forms survive restarts)."""

    __tablename__ = "fsm_states"

    key: str = Field(sa_type=String(255), primary_key=True)
    state: str | None = Field(default=None, max_length=255)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
