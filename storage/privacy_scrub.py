"""The SQL that wipes personal data: of a set of tickets, and of a customer's profile.

Erasing keeps every row statistics are built from (tickets with their times, categories,
priorities, decisions and ratings; messages with their direction and time; events; knowledge
base outcomes) and blanks what identifies or was written by a person: profile fields, texts,
captions, form answers, phone numbers, file ids and names. Rows that only carry content
(outbox payloads, links to the customer's chat) are deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
from storage.privacy_models import AnonymisedTicket
from storage.queued_refreshes import forget_refreshes
from storage.staff_models import MessageLink

# Event comments written by the system itself (codes, not people's words) survive an erasure;
# every other comment (a decision's text, a rating comment) is blanked.
MACHINE_COMMENTS = frozenset(
    {"rated", "low_rating", "auto_close", "customer wrote", "not solved", "erased"}
)


# What an erased customer is called on cards and topic names (the name itself is gone).
ERASED_NAME = "—"


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


class PersonalDataScrubber:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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
        forget_refreshes(session, ids)  # their card refreshes are gone with the rows
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
