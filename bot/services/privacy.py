"""Customers' personal data: a copy of everything stored (export), erasure, and retention.

Erasure keeps the figures statistics are built from (ticket times, categories, priorities,
decisions, ratings, event history) and blanks everything that identifies a person or was
written by one (see `storage/privacy_store.py`). The customer row stays under a placeholder
id, so the next message from that Telegram account registers a new customer. Open tickets are
closed with a note to the staff, and the tickets' topics in the staff group are deleted or
renamed (`ERASE_TOPICS`). Every export and erasure leaves an audit record with counts only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import Actor, ActorKind, EventKind, TicketStatus
from bot.locales.catalog import Catalogs
from bot.services.outbox import enqueue_card_refresh, enqueue_text
from bot.services.transitions import apply_transition
from storage.models import Customer, Ticket
from storage.privacy_store import CustomerRecords, PrivacyStore, ScrubCounts
from storage.unit_of_work import Database, UnitOfWork

DELETE_TOPIC = "delete_topic"
"""Outbox kind: ``{"thread_id": int}`` into the staff group — delete that forum topic."""

ERASED_COMMENT = "erased"
RETENTION_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class PrivacyConfig:
    staff_chat_id: int | None
    staff_locale: str
    zone: ZoneInfo
    erase_topics: str = "anonymise"  # or "delete"
    export_interval: timedelta = timedelta(hours=1)
    retention: timedelta | None = None
    batch_size: int = 200


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


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


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
        self._retention_ran_at: datetime | None = None

    # -------------------------------------------------------------------------- export

    async def export(self, *, customer_id: int, locale: str) -> DataExport:
        """Everything stored about the customer, as JSON and as readable text.

        Raises `ExportTooSoon` when the previous export is less than `export_interval` old.
        """
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            store = PrivacyStore(uow.session)
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
            await PrivacyStore(uow.session).drop_last_event(customer_id=customer_id, kind="export")

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
            store = PrivacyStore(uow.session)
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
            counts.add(await store.scrub_tickets(ticket_ids, reason="erase", now=now))
            topics = await self._handle_topics(uow, records.tickets, now)
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
            counts.add(await store.scrub_customer(customer, now=now))
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

    async def _handle_topics(self, uow: UnitOfWork, tickets: list[Ticket], now: datetime) -> int:
        """Delete the tickets' topics or have their cards and names re-rendered (anonymised)."""
        handled = 0
        staff = self.config.staff_chat_id
        for ticket in tickets:
            assert ticket.id is not None
            if staff is not None and self.config.erase_topics == "delete" and ticket.topic_id:
                await uow.outbox.enqueue(
                    key=f"erase-topic:{ticket.id}:{ticket.topic_id}",
                    chat_id=staff,
                    kind=DELETE_TOPIC,
                    payload={"thread_id": ticket.topic_id},
                    now=now,
                )
                await PrivacyStore(uow.session).forget_topic(ticket_id=ticket.id)
                ticket.topic_id = None
                handled += 1
            elif ticket.topic_id is not None or ticket.card_message_id is not None:
                await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
                handled += 1
        return handled

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

    # ----------------------------------------------------------------------- retention

    async def retention_sweep_if_due(self) -> int | None:
        """The retention sweep once a day (the first time at start); None when not due."""
        if self.config.retention is None:
            return None
        now = self._clock.now()
        last = self._retention_ran_at
        if last is not None and now - last < RETENTION_EVERY:
            return None
        self._retention_ran_at = now
        return await self.retention_sweep()

    async def retention_sweep(self) -> int:
        """Anonymise closed tickets older than the retention period; returns how many."""
        if self.config.retention is None:
            return 0
        total = 0
        while True:
            now = self._clock.now()
            async with self._database.unit_of_work() as uow:
                store = PrivacyStore(uow.session)
                tickets = await store.expired_tickets(
                    closed_before=now - self.config.retention, limit=self.config.batch_size
                )
                if not tickets:
                    return total
                ids = [t.id for t in tickets if t.id is not None]
                counts = await store.scrub_tickets(ids, reason="retention", now=now)
                topics = await self._handle_topics(uow, tickets, now)
                for ticket_id in ids:
                    await uow.events.add(
                        ticket_id=ticket_id,
                        at=now,
                        actor_kind=ActorKind.SYSTEM,
                        actor_id=None,
                        kind=EventKind.ANONYMISED,
                    )
                await store.record_event(
                    kind="retention",
                    customer_id=None,
                    actor_kind=ActorKind.SYSTEM.value,
                    actor_id=None,
                    at=now,
                    counts=counts.as_dict() | {"topics": topics},
                )
            total += len(ids)
            if len(ids) < self.config.batch_size:
                return total


# ------------------------------------------------------------------------------ rendering


def export_document(records: CustomerRecords, *, generated_at: datetime) -> dict[str, Any]:
    """The export as plain data: every stored item of the customer, nothing of anyone else."""
    customer = records.customer
    files_by_message: dict[int, list[dict[str, Any]]] = {}
    form_files: dict[int, list[dict[str, Any]]] = {}
    for attachment in records.attachments:
        item = {
            "kind": attachment.kind,
            "file_id": attachment.file_id,
            "file_name": attachment.file_name,
            "mime_type": attachment.mime_type,
            "file_size": attachment.file_size,
            "sent_at": _iso(attachment.created_at),
        }
        if attachment.message_id is not None:
            files_by_message.setdefault(attachment.message_id, []).append(item)
        elif attachment.ticket_id is not None:
            form_files.setdefault(attachment.ticket_id, []).append(item)

    def message(row: Any) -> dict[str, Any]:
        return {
            "at": _iso(row.created_at),
            "direction": row.direction,
            "type": row.content_type,
            "text": row.text,
            "edited_at": _iso(row.edited_at),
            "attachments": files_by_message.get(row.id, []),
        }

    tickets = []
    for ticket in records.tickets:
        tickets.append(
            {
                "number": ticket.number,
                "kind": ticket.kind,
                "channel": ticket.channel,
                "category": ticket.category,
                "status": ticket.status,
                "priority": ticket.priority,
                "description": ticket.description,
                "incident_date": _iso(ticket.incident_date),
                "form_answers": ticket.fields,
                "contact_phone": ticket.contact_phone,
                "created_at": _iso(ticket.created_at),
                "first_response_at": _iso(ticket.first_response_at),
                "resolved_at": _iso(ticket.resolved_at),
                "closed_at": _iso(ticket.closed_at),
                "decision": ticket.resolution_type,
                "decision_text": ticket.resolution_text,
                "rating": ticket.rating,
                "rating_comment": ticket.rating_comment,
                "rated_at": _iso(ticket.rated_at),
                "attachments": form_files.get(ticket.id or 0, []),
                "messages": [message(m) for m in records.messages if m.ticket_id == ticket.id],
                "events": [
                    {
                        "at": _iso(e.at),
                        "kind": e.kind,
                        "by": e.actor_kind,
                        "from": e.from_status,
                        "to": e.to_status,
                        "comment": e.comment,
                    }
                    for e in records.events
                    if e.ticket_id == ticket.id
                ],
            }
        )
    return {
        "generated_at": _iso(generated_at),
        "profile": {
            "telegram_id": customer.telegram_id,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "username": customer.username,
            "language_code": customer.language_code,
            "language": customer.locale,
            "phone": customer.phone,
            "registered_at": _iso(customer.created_at),
            "updated_at": _iso(customer.updated_at),
            "banned": customer.is_banned,
        },
        "tickets": tickets,
        "messages_outside_tickets": [message(m) for m in records.messages if m.ticket_id is None],
        "knowledge_base_questions": [
            {
                "at": _iso(q.asked_at),
                "text": q.text,
                "outcome": q.decision,
                "answer": q.entry_id,
                "helpful": q.helpful,
            }
            for q in records.kb_queries
        ],
        "bans": [
            {"banned_at": _iso(b.banned_at), "lifted_at": _iso(b.lifted_at)} for b in records.bans
        ],
    }


def _local(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "—"
    moment = datetime.fromisoformat(value)
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def readable_export(data: dict[str, Any], catalogs: Catalogs, locale: str, zone: ZoneInfo) -> str:
    """The export as a text file a person reads: the same items as the JSON, with labels."""

    def label(key: str, **params: Any) -> str:
        return catalogs.plain(f"privacy.export.{key}", locale, **params)

    def value(item: Any) -> str:
        if item is None or item == "":
            return "—"
        if isinstance(item, dict):
            return "; ".join(f"{k}: {value(v)}" for k, v in item.items()) or "—"
        return str(item)

    lines = [label("title"), label("generated", at=_local(data["generated_at"], zone)), ""]
    lines.append(f"== {label('profile')} ==")
    for name, item in data["profile"].items():
        shown = _local(item, zone) if name.endswith("_at") else value(item)
        lines.append(f"{label('field.' + name)}: {shown}")

    def messages(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            who = label(f"direction.{row['direction']}")
            lines.append(f"  [{_local(row['at'], zone)}] {who}: {value(row['text'])}")
            for file in row["attachments"]:
                lines.append("    " + label("file", **_file_params(file)))

    for ticket in data["tickets"]:
        lines += ["", f"== {label('ticket', number=ticket['number'])} =="]
        for name in (
            "category",
            "status",
            "priority",
            "created_at",
            "closed_at",
            "description",
            "incident_date",
            "form_answers",
            "contact_phone",
            "decision",
            "decision_text",
            "rating",
            "rating_comment",
        ):
            item = ticket[name]
            shown = _local(item, zone) if name.endswith("_at") else value(item)
            lines.append(f"{label('field.' + name)}: {shown}")
        for file in ticket["attachments"]:
            lines.append(label("file", **_file_params(file)))
        if ticket["messages"]:
            lines.append(label("messages") + ":")
            messages(ticket["messages"])
        if ticket["events"]:
            lines.append(label("events") + ":")
            for event in ticket["events"]:
                change = f" {event['from'] or '—'} → {event['to']}" if event["to"] else ""
                comment = f" ({event['comment']})" if event["comment"] else ""
                lines.append(f"  [{_local(event['at'], zone)}] {event['kind']}{change}{comment}")
    if data["messages_outside_tickets"]:
        lines += ["", f"== {label('other_messages')} =="]
        messages(data["messages_outside_tickets"])
    if data["knowledge_base_questions"]:
        lines += ["", f"== {label('questions')} =="]
        for question in data["knowledge_base_questions"]:
            lines.append(f"  [{_local(question['at'], zone)}] {value(question['text'])}")
    if data["bans"]:
        lines += ["", f"== {label('bans')} =="]
        for ban in data["bans"]:
            lines.append(f"  {_local(ban['banned_at'], zone)} — {_local(ban['lifted_at'], zone)}")
    return "\n".join(lines) + "\n"


def _file_params(file: dict[str, Any]) -> dict[str, str]:
    return {
        "kind": file["kind"],
        "name": file["file_name"] or "—",
        "file_id": file["file_id"],
    }
