"""The text copy of a customer's data: the same items as the JSON export, with labels in the
customer's language and dates written as that language writes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.locales.catalog import Catalogs

# The ticket's fields the text shows, in this order.
TICKET_FIELDS = (
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
)


def readable_export(data: dict[str, Any], catalogs: Catalogs, locale: str, zone: ZoneInfo) -> str:
    """The export (`export_document`'s data) as a text file a person reads."""

    def label(key: str, **params: Any) -> str:
        return catalogs.plain(f"privacy.export.{key}", locale, **params)

    def moment(item: str | None) -> str:
        if not item:
            return "—"
        return catalogs.format_datetime(datetime.fromisoformat(item), zone, locale)

    def value(item: Any) -> str:
        if item is None or item == "":
            return "—"
        if isinstance(item, dict):
            return "; ".join(f"{k}: {value(v)}" for k, v in item.items()) or "—"
        return str(item)

    def field(name: str, item: Any) -> str:
        if name.endswith("_at"):
            shown = moment(item)
        elif name == "incident_date" and item:
            shown = catalogs.format_date(date.fromisoformat(item), locale)
        else:
            shown = value(item)
        return f"{label('field.' + name)}: {shown}"

    lines = [label("title"), label("generated", at=moment(data["generated_at"])), ""]
    lines.append(f"== {label('profile')} ==")
    lines.extend(field(name, item) for name, item in data["profile"].items())

    def messages(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            who = label(f"direction.{row['direction']}")
            lines.append(f"  [{moment(row['at'])}] {who}: {value(row['text'])}")
            for file in row["attachments"]:
                lines.append("    " + label("file", **_file_params(file)))

    for ticket in data["tickets"]:
        lines += ["", f"== {label('ticket', number=ticket['number'])} =="]
        lines.extend(field(name, ticket[name]) for name in TICKET_FIELDS)
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
                lines.append(f"  [{moment(event['at'])}] {event['kind']}{change}{comment}")
    if data["messages_outside_tickets"]:
        lines += ["", f"== {label('other_messages')} =="]
        messages(data["messages_outside_tickets"])
    if data["knowledge_base_questions"]:
        lines += ["", f"== {label('questions')} =="]
        for question in data["knowledge_base_questions"]:
            lines.append(f"  [{moment(question['at'])}] {value(question['text'])}")
    if data["bans"]:
        lines += ["", f"== {label('bans')} =="]
        for ban in data["bans"]:
            lines.append(f"  {moment(ban['banned_at'])} — {moment(ban['lifted_at'])}")
    return "\n".join(lines) + "\n"


def _file_params(file: dict[str, Any]) -> dict[str, str]:
    return {
        "kind": file["kind"],
        "name": file["file_name"] or "—",
        "file_id": file["file_id"],
    }
