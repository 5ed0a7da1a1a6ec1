"""The SQL of the privacy features: everything stored about a customer, and wiping it.

Erasing keeps every row statistics are built from (tickets with their times, categories,
priorities, decisions and ratings; messages with their direction and time; events; knowledge
base outcomes) and blanks what identifies or was written by a person: profile fields, texts,
captions, form answers, phone numbers, file ids and names. Rows that only carry content
(outbox payloads, links to the customer's chat) are deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.desk_models import TicketCard
from storage.inbox_models import DONE, FAILED, UNREADABLE, InboxUpdate
from storage.incident_models import IncidentObservation
from storage.kb_models import KbQuery
from storage.models import Attachment, Customer, Ticket, TicketEvent, TicketMessage
from storage.outbox_models import OutboxMessage
from storage.privacy_models import AnonymisedTicket, PrivacyEvent
from storage.staff_models import CustomerBan, MessageLink

# Event comments written by the system itself (codes, not people's words) survive an erasure;
# every other comment (a decision's text, a rating comment) is blanked.
MACHINE_COMMENTS = frozenset(
    {"rated", "low_rating", "auto_close", "customer wrote", "not solved", "erased"}
)


# What an erased customer is called on cards and topic names (the name itself is gone).
ERASED_NAME = "—"


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


@dataclass
class ScrubCounts:
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    kb_questions: int = 0
    outbox: int = 0
    links: int = 0
    updates: int = 0

    def add(self, other: ScrubCounts) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


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

    async def scrub_tickets(
        self, ticket_ids: Sequence[int], *, reason: str, now: datetime
    ) -> ScrubCounts:
        """Blank the personal content of these tickets; their figures stay as they are."""
        counts = ScrubCounts()
        if not ticket_ids:
            return counts
        ids = list(ticket_ids)
        session = self.session
        result = await session.exec(
            update(Ticket)
            .where(col(Ticket.id).in_(ids))
            .values(
                description="",
                fields={},
                contact_phone=None,
                resolution_text=None,
                rating_comment=None,
            )
            .execution_options(synchronize_session=False)
        )
        counts.tickets = result.rowcount
        message_ids = select(TicketMessage.id).where(col(TicketMessage.ticket_id).in_(ids))
        counts.attachments = await self._scrub_attachments(
            or_(col(Attachment.ticket_id).in_(ids), col(Attachment.message_id).in_(message_ids))
        )
        counts.messages = await self._scrub_messages(col(TicketMessage.ticket_id).in_(ids))
        await session.exec(
            update(TicketEvent)
            .where(
                col(TicketEvent.ticket_id).in_(ids),
                col(TicketEvent.comment).is_not(None),
                or_(
                    col(TicketEvent.comment).not_in(MACHINE_COMMENTS),
                    col(TicketEvent.kind) == "rating_comment",
                ),
            )
            .values(comment=None)
            .execution_options(synchronize_session=False)
        )
        counts.kb_questions = await self._scrub_kb(col(KbQuery.ticket_id).in_(ids))
        result = await session.exec(
            delete(OutboxMessage)
            .where(col(OutboxMessage.ticket_id).in_(ids))
            .execution_options(synchronize_session=False)
        )
        counts.outbox = result.rowcount
        # Links between a customer's chat and the staff group (the bot's own cards stay).
        result = await session.exec(
            delete(MessageLink)
            .where(
                col(MessageLink.ticket_id).in_(ids),
                or_(col(MessageLink.source_chat_id) > 0, col(MessageLink.copy_chat_id) > 0),
            )
            .execution_options(synchronize_session=False)
        )
        counts.links = result.rowcount
        # What incident detection kept of the complaint's text (its word signature).
        await session.exec(
            update(IncidentObservation)
            .where(col(IncidentObservation.ticket_id).in_(ids))
            .values(signature="")
            .execution_options(synchronize_session=False)
        )
        # The topic name last set carries the customer's name; the next refresh sets it anew.
        await session.exec(
            update(TicketCard)
            .where(col(TicketCard.ticket_id).in_(ids))
            .values(topic_name=None, card_digest=None)
            .execution_options(synchronize_session=False)
        )
        done = set(
            (
                await session.exec(
                    select(AnonymisedTicket.ticket_id).where(
                        col(AnonymisedTicket.ticket_id).in_(ids)
                    )
                )
            ).all()
        )
        session.add_all(
            AnonymisedTicket(ticket_id=tid, at=now, reason=reason) for tid in ids if tid not in done
        )
        await session.flush()
        return counts

    async def scrub_customer(self, customer: Customer, *, now: datetime) -> ScrubCounts:
        """Blank the profile and everything the customer wrote outside tickets; the row stays
        (tickets point to it) under a placeholder id, so the person is a stranger next time."""
        assert customer.id is not None
        counts = ScrubCounts()
        telegram_id = customer.telegram_id
        # What the customer wrote outside tickets (ticket contents are scrubbed by ticket).
        outside = and_(
            col(TicketMessage.customer_id) == customer.id, col(TicketMessage.ticket_id).is_(None)
        )
        counts.attachments = await self._scrub_attachments(
            col(Attachment.message_id).in_(select(TicketMessage.id).where(outside))
        )
        counts.messages = await self._scrub_messages(outside)
        counts.kb_questions = await self._scrub_kb(
            and_(col(KbQuery.customer_id) == customer.id, col(KbQuery.text) != "")
        )
        result = await self.session.exec(
            delete(OutboxMessage)
            .where(col(OutboxMessage.chat_id) == telegram_id)
            .execution_options(synchronize_session=False)
        )
        counts.outbox = result.rowcount
        result = await self.session.exec(
            delete(MessageLink)
            .where(
                or_(
                    col(MessageLink.source_chat_id) == telegram_id,
                    col(MessageLink.copy_chat_id) == telegram_id,
                )
            )
            .execution_options(synchronize_session=False)
        )
        counts.links = result.rowcount
        counts.updates = await self._scrub_inbox(telegram_id)
        # An ORM-enabled bulk update: the in-process customer cache sees it and forgets.
        await self.session.exec(
            update(Customer)
            .where(col(Customer.id) == customer.id)
            .values(
                telegram_id=-customer.id,  # real Telegram user ids are positive
                first_name=ERASED_NAME,
                last_name=None,
                username=None,
                language_code=None,
                phone=None,
                current_ticket_id=None,
                is_unreachable=False,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return counts

    async def forget_topic(self, *, ticket_id: int) -> None:
        """The ticket's topic is being deleted: it has no topic or card any more."""
        await self.session.exec(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id)
            .values(topic_id=None, card_message_id=None)
            .execution_options(synchronize_session=False)
        )

    async def _scrub_inbox(self, telegram_id: int) -> int:
        """Handled incoming updates as Telegram sent them (kept a short while for redelivery)
        that name this user: the update's JSON is compact, so a user or chat object of theirs
        reads `"id":<id>,` or `"id":<id>}`. Pending updates stay: they have yet to be handled."""
        result = await self.session.exec(
            delete(InboxUpdate)
            .where(
                col(InboxUpdate.state).in_((DONE, UNREADABLE, FAILED)),
                or_(
                    col(InboxUpdate.payload).contains(f'"id":{telegram_id},', autoescape=True),
                    col(InboxUpdate.payload).contains(f'"id":{telegram_id}}}', autoescape=True),
                ),
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)

    async def _scrub_messages(self, where: ColumnElement[bool]) -> int:
        await self.session.exec(
            update(TicketMessage)
            .where(where, col(TicketMessage.direction) == "in")
            .values(chat_id=None, telegram_message_id=None, author_id=None)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.exec(
            update(TicketMessage)
            .where(where)
            .values(text=None, media_group_id=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)

    async def _scrub_attachments(self, where: ColumnElement[bool]) -> int:
        result = await self.session.exec(
            update(Attachment)
            .where(where)
            .values(file_id="", file_unique_id="", file_name=None, media_group_id=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)

    async def _scrub_kb(self, where: ColumnElement[bool]) -> int:
        result = await self.session.exec(
            update(KbQuery)
            .where(where)
            .values(text="", details={})
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)
