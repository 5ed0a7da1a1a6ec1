"""Tables of ticket consistency: which complaint form made which ticket, what a card shows."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class FormSubmission(SQLModel, table=True):
    """A submitted complaint form and its ticket: submitting the same form again (a crash
    before its conversation state was cleared, a double press) finds this ticket instead of
    filing the complaint twice."""

    __tablename__ = "form_submissions"

    form_id: str = Field(primary_key=True, max_length=64)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class TicketCard(SQLModel, table=True):
    """What the staff group shows of a ticket: a digest of the card last shown (message, text
    and buttons) and the topic's name last set, so a refresh that changes nothing makes no
    Bot API call, whichever instance does it."""

    __tablename__ = "ticket_cards"

    ticket_id: int = Field(foreign_key="tickets.id", primary_key=True)
    card_digest: str | None = Field(default=None, max_length=64)
    topic_name: str | None = Field(default=None, max_length=256)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
