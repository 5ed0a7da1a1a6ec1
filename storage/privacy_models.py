"""Privacy bookkeeping: the audit trail of exports and erasures; which tickets are anonymised."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class PrivacyEvent(SQLModel, table=True):
    """One export, erasure or retention run: who, when and how many items (never the data)."""

    __tablename__ = "privacy_events"
    __table_args__ = (Index("ix_privacy_events_customer_kind_at", "customer_id", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # export, erase, retention
    customer_id: int | None = Field(default=None, foreign_key="customers.id")
    actor_kind: str = Field(max_length=16)  # customer, agent, system
    actor_id: int | None = Field(default=None, sa_type=BigInteger)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AnonymisedTicket(SQLModel, table=True):
    """A ticket whose personal content is gone (erasure or retention): done once, never again."""

    __tablename__ = "anonymised_tickets"

    ticket_id: int = Field(foreign_key="tickets.id", primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    reason: str = Field(max_length=16)  # erase, retention
