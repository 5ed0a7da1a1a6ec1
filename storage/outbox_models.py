"""Outgoing messages waiting to be delivered (written in the same transaction as their cause)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, SmallInteger, Table, Text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Where a row is in its delivery.
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
# Delivery lanes, first served first: the conversation between customers and agents, then
# what the desk says about it (cards, notices), then messages to many (broadcasts, digests).
CONVERSATION = 0
DESK = 1
BROADCAST = 2
# The one mapping from a row's kind to its lane (a kind not listed is conversation). A new
# kind is added here and, with how it is sent, in the delivery worker's `SENDERS`.
LANES: dict[str, int] = {
    "text": CONVERSATION,
    "copy": CONVERSATION,
    "media_group": CONVERSATION,
    "edit_text": CONVERSATION,
    "edit_caption": CONVERSATION,
    "open_topic": CONVERSATION,
    "notice": DESK,
    "refresh_card": DESK,
    "delete_topic": DESK,
    "incident_update": BROADCAST,
    "incident_resolved": BROADCAST,
    "digest": BROADCAST,
}


def lane_of(kind: str) -> int:
    return LANES.get(kind, CONVERSATION)


def _lane_of_row(context: DefaultExecutionContext) -> int:
    """The lane column's default: every insert gets the lane of its kind."""
    return lane_of(str(context.get_current_parameters()["kind"]))


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # The worker reads each lane's pending rows in order of age straight off this index.
        Index("ix_outbox_lane_queue", "status", "lane", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # idempotency key: one message per cause
    chat_id: int = Field(sa_type=BigInteger, index=True)
    thread_id: int | None = Field(default=None, sa_type=BigInteger)
    kind: str = Field(max_length=32)  # how the delivery worker sends it: text, copy, ...
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    status: str = Field(default="pending", max_length=16)  # pending, sending, sent, failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_error: str | None = Field(default=None, sa_type=Text)
    sent_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # Set from `kind` on insert (see `_lane_of_row`); rows are added with Core inserts.
    lane: int = Field(
        default=CONVERSATION,
        sa_column=Column(SmallInteger, nullable=False, default=_lane_of_row, server_default="0"),
    )


OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
