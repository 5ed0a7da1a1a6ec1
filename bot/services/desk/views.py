"""What the desk hands to the Telegram layer: frozen copies of tickets, customers and agents.

The adapter never holds an ORM row (nothing it does can write to the database by accident,
and nothing it reads loads lazily after the session is gone).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from bot.domain.tickets import Priority, ResolutionType, TicketKind, TicketStatus
from storage.models import Customer, Ticket
from storage.staff_models import Agent


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as stored when it was read (the columns the staff side shows or needs)."""

    id: int
    number: str
    customer_id: int
    kind: TicketKind
    category: str
    description: str
    status: TicketStatus
    priority: Priority
    created_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    incident_date: date | None = None
    contact_phone: str | None = None
    team: str | None = None
    assignee_id: int | None = None
    topic_id: int | None = None
    card_message_id: int | None = None
    kb_articles: tuple[str, ...] | None = None
    first_response_at: datetime | None = None
    first_response_due: datetime | None = None
    first_response_breached_at: datetime | None = None
    resolution_due: datetime | None = None
    resolution_breached_at: datetime | None = None
    resolution_type: ResolutionType | None = None
    resolution_text: str | None = None
    rating: int | None = None
    rating_comment: str | None = None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        assert ticket.id is not None
        copied = {f.name: getattr(ticket, f.name) for f in fields(cls)}
        copied["fields"] = dict(ticket.fields or {})
        if ticket.kb_articles is not None:
            copied["kb_articles"] = tuple(ticket.kb_articles)
        return cls(**copied)


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: int
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    locale: str
    is_banned: bool
    is_unreachable: bool

    @classmethod
    def of(cls, customer: Customer) -> CustomerView:
        assert customer.id is not None
        return cls(**{f.name: getattr(customer, f.name) for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class AgentView:
    telegram_id: int
    display_name: str
    available: bool

    @classmethod
    def of(cls, agent: Agent) -> AgentView:
        return cls(agent.telegram_id, agent.display_name, agent.available)


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """A knowledge-base entry the card offers to send to the customer."""

    entry_id: str
    title: str


@dataclass(frozen=True, slots=True)
class IncidentRef:
    number: str
    title: str


@dataclass(frozen=True, slots=True)
class CardRelated:
    """What the card shows beside the ticket itself (gathered by the adapter's card maker)."""

    articles: tuple[ArticleRef, ...] = ()
    incident: IncidentRef | None = None
    """The mass incident the ticket is linked to."""
    suggested_incident: IncidentRef | None = None
    """An incident the ticket resembles (shown when it is linked to none)."""


@dataclass(frozen=True, slots=True)
class CardData:
    ticket: TicketView
    customer: CustomerView
    earlier_tickets: int
    assignee: AgentView | None
    related: CardRelated = CardRelated()
