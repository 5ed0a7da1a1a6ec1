"""The SQL of the privacy features that is not wiping: everything stored about a customer,
the audit records of exports and erasures, and the tickets retention has yet to anonymise.

Wiping is `storage/privacy_scrub.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.kb_models import KbQuery
from storage.models import Attachment, Customer, Ticket, TicketEvent, TicketMessage
from storage.privacy_models import AnonymisedTicket, PrivacyEvent
from storage.staff_models import CustomerBan


@dataclass
class CustomerRecords:
    """Every row that belongs to one customer."""

    customer: Customer
    tickets: list[Ticket] = field(default_factory=list)
    messages: list[TicketMessage] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)
    kb_queries: list[KbQuery] = field(default_factory=list)
    bans: list[CustomerBan] = field(default_factory=list)


class PrivacyStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------------ reading

    async def records(self, customer: Customer) -> CustomerRecords:
        assert customer.id is not None
        found = CustomerRecords(customer)
        found.tickets = list(
            (
                await self.session.exec(
                    select(Ticket)
                    .where(Ticket.customer_id == customer.id)
                    .order_by(col(Ticket.created_at), col(Ticket.id))
                )
            ).all()
        )
        ticket_ids = [t.id for t in found.tickets if t.id is not None]
        found.messages = list(
            (
                await self.session.exec(
                    select(TicketMessage)
                    .where(
                        or_(
                            col(TicketMessage.ticket_id).in_(ticket_ids),
                            col(TicketMessage.customer_id) == customer.id,
                        )
                    )
                    .order_by(col(TicketMessage.created_at), col(TicketMessage.id))
                )
            ).all()
        )
        message_ids = [m.id for m in found.messages if m.id is not None]
        found.attachments = list(
            (
                await self.session.exec(
                    select(Attachment)
                    .where(
                        or_(
                            col(Attachment.ticket_id).in_(ticket_ids),
                            col(Attachment.message_id).in_(message_ids),
                        )
                    )
                    .order_by(col(Attachment.id))
                )
            ).all()
        )
        found.events = list(
            (
                await self.session.exec(
                    select(TicketEvent)
                    .where(col(TicketEvent.ticket_id).in_(ticket_ids))
                    .order_by(col(TicketEvent.at), col(TicketEvent.id))
                )
            ).all()
        )
        found.kb_queries = list(
            (
                await self.session.exec(
                    select(KbQuery)
                    .where(KbQuery.customer_id == customer.id)
                    .order_by(col(KbQuery.asked_at), col(KbQuery.id))
                )
            ).all()
        )
        found.bans = list(
            (
                await self.session.exec(
                    select(CustomerBan)
                    .where(CustomerBan.customer_id == customer.id)
                    .order_by(col(CustomerBan.id))
                )
            ).all()
        )
        return found

    async def last_event_at(self, *, customer_id: int, kind: str) -> datetime | None:
        result = await self.session.exec(
            select(PrivacyEvent.at)
            .where(PrivacyEvent.customer_id == customer_id, PrivacyEvent.kind == kind)
            .order_by(col(PrivacyEvent.at).desc())
            .limit(1)
        )
        return result.first()

    async def drop_last_event(self, *, customer_id: int, kind: str) -> None:
        last = (
            await self.session.exec(
                select(PrivacyEvent)
                .where(PrivacyEvent.customer_id == customer_id, PrivacyEvent.kind == kind)
                .order_by(col(PrivacyEvent.at).desc(), col(PrivacyEvent.id).desc())
                .limit(1)
            )
        ).first()
        if last is not None:
            await self.session.delete(last)

    async def expired_tickets(self, *, closed_before: datetime, limit: int) -> list[Ticket]:
        """Closed tickets older than the retention period that still hold personal content."""
        anonymised = select(AnonymisedTicket.ticket_id)
        result = await self.session.exec(
            select(Ticket)
            .where(
                Ticket.status == "closed",
                col(Ticket.closed_at) < closed_before,
                col(Ticket.id).not_in(anonymised),
            )
            .order_by(col(Ticket.closed_at), col(Ticket.id))
            .limit(limit)
        )
        return list(result.all())

    # ------------------------------------------------------------------------ writing

    async def record_event(
        self,
        *,
        kind: str,
        customer_id: int | None,
        actor_kind: str,
        actor_id: int | None,
        at: datetime,
        counts: dict[str, int],
    ) -> None:
        self.session.add(
            PrivacyEvent(
                kind=kind,
                customer_id=customer_id,
                actor_kind=actor_kind,
                actor_id=actor_id,
                at=at,
                counts=counts,
            )
        )
        await self.session.flush()

    async def forget_topic(self, *, ticket_id: int) -> None:
        """The ticket's topic is being deleted: it has no topic or card any more."""
        await self.session.exec(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id)
            .values(topic_id=None, card_message_id=None)
            .execution_options(synchronize_session=False)
        )
