"""Customers' personal data: a copy of everything stored (export), erasure, and retention.

Erasure keeps the figures statistics are built from (ticket times, categories, priorities,
decisions, ratings, event history) and blanks everything that identifies a person or was
written by one (see `storage/privacy_scrub.py`). The customer row stays under a placeholder
id, so the next message from that Telegram account registers a new customer. Open tickets are
closed with a note to the staff, and the tickets' topics in the staff group are deleted or
renamed (`ERASE_TOPICS`). Every export and erasure leaves an audit record with counts only.
The retention sweep (`bot/services/retention.py`) anonymises old closed tickets the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import Actor, ActorKind, EventKind, TicketStatus
from bot.locales.catalog import Catalogs
from bot.services.outbox import enqueue_text
from bot.services.privacy_config import PrivacyConfig
from bot.services.privacy_export import export_document
from bot.services.privacy_export_text import readable_export
from bot.services.privacy_topics import handle_topics
from bot.services.transitions import apply_transition
from storage.models import Customer, Ticket
from storage.privacy_scrub import ScrubCounts
from storage.unit_of_work import Database, UnitOfWork

ERASED_COMMENT = "erased"


class ExportTooSoon(Exception):
    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"the next export is possible at {retry_at.isoformat()}")
        self.retry_at = retry_at


class NothingToErase(Exception):
    """The customer's data is already erased."""


@dataclass(frozen=True, slots=True)
class DataExport:
    json_bytes: bytes
    text_bytes: bytes
    counts: dict[str, int]


@dataclass(slots=True)
class ErasureReport:
    counts: dict[str, int] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)


def is_erased(customer: Customer) -> bool:
    return customer.telegram_id < 0


class PrivacyService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        sla: SlaPolicy,
        catalogs: Catalogs,
        config: PrivacyConfig,
    ) -> None:
        self._database = database
        self._clock = clock
        self._sla = sla
        self._catalogs = catalogs
        self.config = config

    # -------------------------------------------------------------------------- export

    async def export(self, *, customer_id: int, locale: str) -> DataExport:
        """Everything stored about the customer, as JSON and as readable text.

        Raises `ExportTooSoon` when the previous export is less than `export_interval` old.
        """
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            store = uow.privacy
            last = await store.last_event_at(customer_id=customer_id, kind="export")
            if last is not None and now - last < self.config.export_interval:
                raise ExportTooSoon(last + self.config.export_interval)
            customer = await uow.customers.get(customer_id=customer_id)
            if customer is None:
                raise LookupError(f"no customer {customer_id}")
            records = await store.records(customer)
            data = export_document(records, generated_at=now)
            counts = {
                "tickets": len(records.tickets),
                "messages": len(records.messages),
                "attachments": len(records.attachments),
                "kb_questions": len(records.kb_queries),
            }
            await store.record_event(
                kind="export",
                customer_id=customer_id,
                actor_kind=ActorKind.CUSTOMER.value,
                actor_id=None,
                at=now,
                counts=counts,
            )
        text = readable_export(data, self._catalogs, locale, self.config.zone)
        return DataExport(
            json_bytes=json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
            text_bytes=text.encode("utf-8"),
            counts=counts,
        )

    async def export_not_delivered(self, *, customer_id: int) -> None:
        """The files did not reach the customer: the export does not count for the hourly
        limit, so they can ask again at once."""
        async with self._database.unit_of_work() as uow:
            await uow.privacy.drop_last_event(customer_id=customer_id, kind="export")

    # ------------------------------------------------------------------------- erasure

    async def customer_of_ticket(self, ticket_id: int) -> Customer | None:
        async with self._database.unit_of_work() as uow:
            ticket = await uow.tickets.get(ticket_id=ticket_id)
            if ticket is None:
                return None
            return await uow.customers.get(customer_id=ticket.customer_id)

    async def erase(self, *, customer_id: int, actor: Actor) -> ErasureReport:
        """Erase the customer's personal data (see the module's docstring).

        `actor` is the customer themselves or the administrator who ran `/erase`. Raises
        `NothingToErase` when it was already done.
        """
        now = self._clock.now()
        report = ErasureReport()
        async with self._database.unit_of_work() as uow:
            customer = await uow.session.get(Customer, customer_id, with_for_update=True)
            if customer is None or is_erased(customer):
                raise NothingToErase(customer_id)
            store = uow.privacy
            records = await store.records(customer)
            counts = ScrubCounts()
            for ticket in records.tickets:
                if ticket.status is not TicketStatus.CLOSED:
                    await apply_transition(
                        uow,
                        ticket=ticket,
                        target=TicketStatus.CLOSED,
                        actor=actor,
                        now=now,
                        sla=self._sla,
                        comment=ERASED_COMMENT,
                    )
                    report.closed.append(ticket.number)
            ticket_ids = [t.id for t in records.tickets if t.id is not None]
            counts.add(await uow.scrubber.scrub_tickets(ticket_ids, reason="erase", now=now))
            topics = await handle_topics(uow, records.tickets, now, self.config)
            for ticket in records.tickets:
                assert ticket.id is not None
                await uow.events.add(
                    ticket_id=ticket.id,
                    at=now,
                    actor_kind=actor.kind,
                    actor_id=actor.user_id,
                    kind=EventKind.ERASED,
                )
                if ticket.number in report.closed:
                    await self._note_closed(uow, ticket, actor, now)
            counts.add(await uow.scrubber.scrub_customer(customer, now=now))
            report.counts = counts.as_dict() | {
                "tickets_closed": len(report.closed),
                "topics": topics,
            }
            await store.record_event(
                kind="erase",
                customer_id=customer_id,
                actor_kind=actor.kind.value,
                actor_id=actor.user_id if actor.kind is ActorKind.AGENT else None,
                at=now,
                counts=report.counts,
            )
        return report

    async def _note_closed(
        self, uow: UnitOfWork, ticket: Ticket, actor: Actor, now: datetime
    ) -> None:
        staff = self.config.staff_chat_id
        if staff is None:
            return
        assert ticket.id is not None
        key = (
            "privacy.staff.closed_by_admin"
            if actor.kind is ActorKind.AGENT
            else "privacy.staff.closed"
        )
        in_topic = self.config.erase_topics != "delete"
        await enqueue_text(
            uow,
            key=f"erase-note:{ticket.id}",
            chat_id=staff,
            html=self._catalogs.render(key, self.config.staff_locale, number=ticket.number),
            now=now,
            ticket_id=ticket.id if in_topic else None,
            ticket_topic=in_topic,
        )
