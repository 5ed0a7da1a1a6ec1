"""What customers asked the knowledge base, what it decided and whether it helped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class KbQuery(SQLModel, table=True):
    __tablename__ = "kb_queries"
    __table_args__ = (Index("ix_kb_queries_gaps", "decision", "helpful", "asked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True)
    locale: str = Field(max_length=8)
    text: str = Field(sa_type=Text)
    decision: str = Field(max_length=16)  # answer, suggest, none
    entry_id: str | None = Field(default=None, max_length=64)  # answered or chosen entry
    score: float | None = None
    suggestions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    helpful: bool | None = None  # the customer's Yes / No
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    asked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
