"""Tables of the staff desk: message links between chats, agents, and customer bans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class MessageLink(SQLModel, table=True):
    """An original message and its copy in another chat (for edits, replies, fallback mode).

    Messages the bot posts into the staff group on its own (cards, headers, notices) are
    linked to themselves, so a reply to any of them can be mapped back to the ticket.
    """

    __tablename__ = "message_links"
    __table_args__ = (
        UniqueConstraint(
            "source_chat_id",
            "source_message_id",
            "copy_chat_id",
            "copy_message_id",
            name="uq_message_links_pair",
        ),
        Index("ix_message_links_source", "source_chat_id", "source_message_id"),
        Index("ix_message_links_copy", "copy_chat_id", "copy_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    source_chat_id: int = Field(sa_type=BigInteger)
    source_message_id: int = Field(sa_type=BigInteger)
    copy_chat_id: int = Field(sa_type=BigInteger)
    copy_message_id: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Agent(SQLModel, table=True):
    """A staff member the desk has seen: name for cards, availability for auto-assignment."""

    __tablename__ = "agents"

    telegram_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False, nullable=False)
    )
    display_name: str = Field(default="", max_length=256)
    username: str | None = Field(default=None, max_length=64, index=True)
    available: bool = Field(default=True)
    last_assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CustomerBan(SQLModel, table=True):
    """One ban of a customer; `notified_at` makes sure they are told exactly once."""

    __tablename__ = "customer_bans"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    banned_by: int | None = Field(default=None, sa_type=BigInteger)
    banned_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
