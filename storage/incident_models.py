"""Tables of mass incidents: what detection saw, alerts, incidents, their tickets and updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.domain.incidents import IncidentStatus
from bot.domain.tickets import ResolutionType
from storage.types import EnumText, UTCDateTime


class IncidentObservation(SQLModel, table=True):
    """A ticket as incident detection saw it: its text's signature and its cluster."""

    __tablename__ = "incident_observations"
    __table_args__ = (Index("ix_incident_observations_category_at", "category", "created_at"),)

    ticket_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False, nullable=False)
    )
    category: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    signature: str = Field(default="", sa_type=Text)
    cluster_id: int = Field(sa_type=BigInteger, index=True)
    # An open incident this ticket resembles but was not linked to (shown on its card).
    suggested_incident_id: int | None = Field(default=None)


class IncidentAlert(SQLModel, table=True):
    """One alert per cluster: raised once, then declared, dismissed or calmed down."""

    __tablename__ = "incident_alerts"
    __table_args__ = (Index("ix_incident_alerts_status", "status", "last_ticket_at"),)

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(sa_type=BigInteger, unique=True)
    category: str = Field(max_length=64)
    status: str = Field(default="open", max_length=16)  # open, declared, dismissed, calm
    first_ticket_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_ticket_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    alerted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    count: int = Field(default=0)
    usual_per_hour: float = Field(default=0.0)
    p_value: float = Field(default=0.0)
    sample_ticket_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    incident_id: int | None = Field(default=None)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class Incident(SQLModel, table=True):
    __tablename__ = "incidents"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)
    title: str = Field(max_length=256)
    public_text: str = Field(default="", sa_type=Text)
    status: IncidentStatus = Field(
        default=IncidentStatus.INVESTIGATING, sa_type=EnumText(IncidentStatus, 16), index=True
    )
    category: str | None = Field(default=None, max_length=64)
    signature: str = Field(default="", sa_type=Text)
    topic_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    card_message_id: int | None = Field(default=None, sa_type=BigInteger)
    declared_by: int | None = Field(default=None, sa_type=BigInteger)
    # Detection: the cluster's first ticket and its alert (None when declared by hand).
    first_ticket_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    alerted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    declared_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    resolution_type: ResolutionType | None = Field(
        default=None, sa_type=EnumText(ResolutionType, 24)
    )
    resolution_text: str | None = Field(default=None, sa_type=Text)
    resolved_by: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class IncidentTicket(SQLModel, table=True):
    """A ticket linked to an incident (a ticket belongs to at most one)."""

    __tablename__ = "incident_tickets"
    # An incident's tickets in ticket order: detection reads an open incident's latest ones
    # for every new complaint, without sorting all of them.
    __table_args__ = (Index("ix_incident_tickets_incident_ticket", "incident_id", "ticket_id"),)

    ticket_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False, nullable=False)
    )
    incident_id: int = Field(foreign_key="incidents.id")
    how: str = Field(max_length=16)  # cluster, manual, auto
    linked_by: int | None = Field(default=None, sa_type=BigInteger)
    linked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Set once the incident's resolution has been applied to this ticket (or found needless).
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class IncidentUpdate(SQLModel, table=True):
    """An update posted to an incident's customers (`/update`)."""

    __tablename__ = "incident_updates"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    text: str = Field(sa_type=Text)
    author_id: int | None = Field(default=None, sa_type=BigInteger)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    recipients: int = Field(default=0)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
