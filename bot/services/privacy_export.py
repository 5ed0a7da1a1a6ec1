"""What a customer's copy of their data contains: every stored item of theirs, as plain data.

The same data goes out as JSON and, worded for a person, as text
(`bot/services/privacy_export_text.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from storage.privacy_store import CustomerRecords


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


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
