"""Incoming updates as received, stored before Telegram is told they arrived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Table, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

PENDING = "pending"  # stored, not handled yet (or a handler was running when the process died)
DONE = "done"  # handled
UNREADABLE = "unreadable"  # could not be parsed as an update: kept for a person to look at
FAILED = "failed"  # handling raised on every attempt: kept with the last error


class InboxUpdate(SQLModel, table=True):
    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_state_lease", "state", "lease_until"),
        Index("ix_inbox_state_received", "state", "received_at"),
    )

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    payload: str = Field(sa_type=Text)  # the update's JSON exactly as it came
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    state: str = Field(default=PENDING, max_length=16)
    attempts: int = Field(default=0)
    error: str | None = Field(default=None, sa_type=Text)
    claimed_by: str | None = Field(default=None, max_length=64)  # the instance handling it
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


INBOX: Table = InboxUpdate.__table__  # type: ignore[attr-defined]
