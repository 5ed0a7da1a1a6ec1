"""Repositories of the staff desk and of outbox delivery. Methods take keyword-only arguments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlmodel import col, select

from storage.models import Ticket, TicketMessage
from storage.outbox_models import OutboxMessage
from storage.repositories import _Repository
from storage.staff_models import Agent, CustomerBan, MessageLink

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"


class MessageLinkRepository(_Repository):
    async def add(
        self,
        *,
        ticket_id: int,
        source_chat_id: int,
        source_message_id: int,
        copy_chat_id: int,
        copy_message_id: int,
        now: datetime,
    ) -> None:
        self.session.add(
            MessageLink(
                ticket_id=ticket_id,
                source_chat_id=source_chat_id,
                source_message_id=source_message_id,
                copy_chat_id=copy_chat_id,
                copy_message_id=copy_message_id,
                created_at=now,
            )
        )
        await self.session.flush()

    async def copies_of(
        self, *, source_chat_id: int, source_message_id: int, copy_chat_id: int
    ) -> Sequence[MessageLink]:
        result = await self.session.exec(
            select(MessageLink)
            .where(
                MessageLink.source_chat_id == source_chat_id,
                MessageLink.source_message_id == source_message_id,
                MessageLink.copy_chat_id == copy_chat_id,
            )
            .order_by(col(MessageLink.id))
        )
        return result.all()

    async def counterpart(self, *, chat_id: int, message_id: int, other_chat_id: int) -> int | None:
        """The id in `other_chat_id` of the message that `message_id` copies or was copied to."""
        as_copy = await self.session.exec(
            select(MessageLink.source_message_id).where(
                MessageLink.copy_chat_id == chat_id,
                MessageLink.copy_message_id == message_id,
                MessageLink.source_chat_id == other_chat_id,
            )
        )
        found = as_copy.first()
        if found is not None:
            return int(found)
        as_source = await self.session.exec(
            select(MessageLink.copy_message_id).where(
                MessageLink.source_chat_id == chat_id,
                MessageLink.source_message_id == message_id,
                MessageLink.copy_chat_id == other_chat_id,
            )
        )
        found = as_source.first()
        return int(found) if found is not None else None

    async def ticket_for(self, *, chat_id: int, message_id: int) -> int | None:
        result = await self.session.exec(
            select(MessageLink.ticket_id)
            .where(
                or_(
                    and_(
                        col(MessageLink.copy_chat_id) == chat_id,
                        col(MessageLink.copy_message_id) == message_id,
                    ),
                    and_(
                        col(MessageLink.source_chat_id) == chat_id,
                        col(MessageLink.source_message_id) == message_id,
                    ),
                )
            )
            .order_by(col(MessageLink.id).desc())
        )
        found = result.first()
        return int(found) if found is not None else None


class AgentRepository(_Repository):
    async def get(self, *, telegram_id: int) -> Agent | None:
        return await self.session.get(Agent, telegram_id)

    async def upsert(
        self, *, telegram_id: int, display_name: str, username: str | None, now: datetime
    ) -> Agent:
        agent = await self.session.get(Agent, telegram_id)
        if agent is None:
            agent = Agent(
                telegram_id=telegram_id,
                display_name=display_name,
                username=username,
                updated_at=now,
            )
        elif (agent.display_name, agent.username) == (display_name, username):
            return agent
        else:
            agent.display_name = display_name
            agent.username = username
            agent.updated_at = now
        self.session.add(agent)
        await self.session.flush()
        return agent

    async def by_username(self, *, username: str) -> Agent | None:
        result = await self.session.exec(
            select(Agent).where(func.lower(Agent.username) == username.lower().lstrip("@"))
        )
        return result.first()

    async def all(self) -> Sequence[Agent]:
        result = await self.session.exec(
            select(Agent).order_by(col(Agent.available).desc(), col(Agent.display_name))
        )
        return result.all()

    async def by_ids(self, *, ids: Sequence[int]) -> Sequence[Agent]:
        if not ids:
            return []
        result = await self.session.exec(select(Agent).where(col(Agent.telegram_id).in_(ids)))
        return result.all()

    async def save(self, *, agent: Agent) -> None:
        self.session.add(agent)
        await self.session.flush()


class BanRepository(_Repository):
    async def active(self, *, customer_id: int) -> CustomerBan | None:
        result = await self.session.exec(
            select(CustomerBan)
            .where(CustomerBan.customer_id == customer_id, col(CustomerBan.lifted_at).is_(None))
            .order_by(col(CustomerBan.id).desc())
        )
        return result.first()

    async def add(self, *, customer_id: int, banned_by: int | None, now: datetime) -> CustomerBan:
        ban = CustomerBan(customer_id=customer_id, banned_by=banned_by, banned_at=now)
        self.session.add(ban)
        await self.session.flush()
        return ban

    async def save(self, *, ban: CustomerBan) -> None:
        self.session.add(ban)
        await self.session.flush()


# Built once: every relayed customer message looks at the one before it.
_PREVIOUS_MESSAGE = (
    select(TicketMessage)
    .where(
        TicketMessage.ticket_id == bindparam("ticket_id"),
        col(TicketMessage.id) < bindparam("before_id"),
    )
    .order_by(col(TicketMessage.id).desc())
    .limit(1)
)


class StaffTicketRepository(_Repository):
    """Ticket queries of the staff side (topics, cards, relays)."""

    async def by_topic(self, *, topic_id: int) -> Ticket | None:
        result = await self.session.exec(select(Ticket).where(Ticket.topic_id == topic_id))
        return result.first()

    async def claim_topic(self, *, ticket_id: int, topic_id: int, previous: int | None) -> bool:
        """Set the topic only if it is still `previous` (None: unset); False when someone won."""
        condition = (
            col(Ticket.topic_id).is_(None) if previous is None else col(Ticket.topic_id) == previous
        )
        result = await self.session.exec(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id, condition)
            .values(topic_id=topic_id, card_message_id=None)
        )
        return bool(result.rowcount)

    async def claim_card(self, *, ticket_id: int, message_id: int, previous: int | None) -> bool:
        condition = (
            col(Ticket.card_message_id).is_(None)
            if previous is None
            else col(Ticket.card_message_id) == previous
        )
        result = await self.session.exec(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id, condition)
            .values(card_message_id=message_id)
        )
        return bool(result.rowcount)

    async def previous_message(self, *, ticket_id: int, before_id: int) -> TicketMessage | None:
        result = await self.session.exec(
            _PREVIOUS_MESSAGE, params={"ticket_id": ticket_id, "before_id": before_id}
        )
        return result.first()

    async def count_earlier(self, *, customer_id: int, before_id: int) -> int:
        result = await self.session.exec(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.customer_id == customer_id, col(Ticket.id) < before_id)
        )
        return int(result.one())

    async def message(self, *, message_id: int) -> TicketMessage | None:
        return await self.session.get(TicketMessage, message_id)

    async def message_by_telegram_id(
        self, *, chat_id: int, telegram_message_id: int
    ) -> TicketMessage | None:
        result = await self.session.exec(
            select(TicketMessage)
            .where(
                TicketMessage.chat_id == chat_id,
                TicketMessage.telegram_message_id == telegram_message_id,
            )
            .order_by(col(TicketMessage.id).desc())
        )
        return result.first()


class OutboxQueueRepository(_Repository):
    """The delivery side of the outbox: what is due, claiming, marking, rescheduling."""

    async def due(self, *, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        result = await self.session.exec(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.status).in_((PENDING, SENDING)),
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        return result.all()

    async def retrying_chats(self, *, now: datetime) -> set[int]:
        """Chats with an earlier message waiting for a retry: later ones must wait behind it."""
        result = await self.session.exec(
            select(OutboxMessage.chat_id)
            .where(
                OutboxMessage.status == PENDING,
                col(OutboxMessage.attempts) > 0,
                col(OutboxMessage.next_attempt_at) > now,
            )
            .distinct()
        )
        return {int(chat) for chat in result.all()}

    async def next_due_at(self) -> datetime | None:
        result = await self.session.exec(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                col(OutboxMessage.status).in_((PENDING, SENDING))
            )
        )
        value = result.one()
        return value if isinstance(value, datetime) else None

    async def claim(self, *, message_id: int, now: datetime, lease_until: datetime) -> bool:
        """Mark as `sending` unless another worker holds it; the lease lets a crash be retried."""
        result = await self.session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message_id,
                col(OutboxMessage.status).in_((PENDING, SENDING)),
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .values(
                status=SENDING,
                attempts=OutboxMessage.attempts + 1,
                next_attempt_at=lease_until,
            )
        )
        return bool(result.rowcount)

    async def mark_sent(
        self, *, message_id: int, now: datetime, sent_message_id: int | None
    ) -> None:
        await self.session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(status=SENT, sent_at=now, sent_message_id=sent_message_id, last_error=None)
        )

    async def reschedule(
        self, *, message_id: int, at: datetime, error: str, count_attempt: bool = True
    ) -> None:
        values: dict[str, Any] = {"status": PENDING, "next_attempt_at": at, "last_error": error}
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        await self.session.exec(
            update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
        )

    async def mark_failed(self, *, message_id: int, error: str) -> None:
        await self.session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(status=FAILED, last_error=error)
        )

    async def pending_by_key(self, *, key: str) -> OutboxMessage | None:
        result = await self.session.exec(
            select(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.status == PENDING)
        )
        return result.first()

    async def by_key(self, *, key: str) -> OutboxMessage | None:
        result = await self.session.exec(select(OutboxMessage).where(OutboxMessage.key == key))
        return result.first()

    async def replace_payload(self, *, message: OutboxMessage, payload: dict[str, Any]) -> None:
        message.payload = payload
        self.session.add(message)
        await self.session.flush()
