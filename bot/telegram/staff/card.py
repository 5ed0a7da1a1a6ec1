"""The ticket card and the topic name: what agents see of a ticket, rendered from the catalogue."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.tickets import Priority
from bot.locales.catalog import Catalogs, Markup
from bot.services.desk import AgentView, CardData, TicketView, customer_name, mention
from bot.telegram.staff.callbacks import CardCallback
from bot.telegram.staff.incident_card import incident_text
from bot.telegram.staff.kb_card import related_rows, related_text
from bot.telegram.text_limits import fit_escaped, shorten_line, utf16_len

MAX_TEXT = 4096
MAX_TOPIC_NAME = 128
STATUS_MARKERS = {
    "new": "🆕",
    "in_progress": "🔧",
    "waiting_customer": "⏳",
    "resolved": "✅",
    "closed": "🔒",
    "reopened": "🔁",
}


OVERDUE_MARKER = "⏰"


def overdue(ticket: TicketView) -> bool:
    """A service-level target was missed and is still pending (the sweep marks breaches)."""
    if not ticket.status.is_open:
        return False
    first_missed = (
        ticket.first_response_breached_at is not None and ticket.first_response_at is None
    )
    return first_missed or ticket.resolution_breached_at is not None


def _marker(ticket: TicketView) -> str:
    marker = STATUS_MARKERS.get(ticket.status, "")
    return marker + OVERDUE_MARKER if overdue(ticket) else marker


@dataclass(frozen=True, slots=True)
class CardStyle:
    catalogs: Catalogs
    locale: str
    zone: ZoneInfo
    category_titles: Mapping[str, str]
    field_titles: Mapping[str, str]

    def text(self, key: str, /, **params: object) -> str:
        return self.catalogs.render(key, self.locale, **params)

    def plain(self, key: str, /, **params: object) -> str:
        return self.catalogs.plain(key, self.locale, **params)

    def count(self, key: str, count: int) -> str:
        return self.catalogs.count(key, self.locale, count)

    def moment(self, moment: datetime) -> str:
        return self.catalogs.format_datetime(moment, self.zone, self.locale)

    def day(self, day: date) -> str:
        return self.catalogs.format_date(day, self.locale)


def topic_name(data: CardData, style: CardStyle) -> str:
    ticket = data.ticket
    name = style.plain(
        "desk.topic.name",
        marker=_marker(ticket),
        number=ticket.number,
        category=style.category_titles.get(ticket.category, ticket.category),
        customer=customer_name(data.customer),
    )
    return shorten_line(name, MAX_TOPIC_NAME)


def _agent_label(agent: AgentView | None, style: CardStyle) -> str | Markup:
    if agent is None:
        return style.plain("desk.card.nobody")
    return mention(agent.telegram_id, agent.display_name)


def render_card(data: CardData, style: CardStyle) -> str:
    """The card within one message: the customer's and agents' texts on it (fields, decision,
    rating comment, description) are shortened together when they do not all fit."""
    ticket = data.ticket
    typed = {f"field:{key}": str(value) for key, value in (ticket.fields or {}).items()}
    typed["resolution"] = ticket.resolution_text or ""
    typed["comment"] = ticket.rating_comment or ""
    typed["description"] = ticket.description or "—"
    text = _card_text(data, style, {key: html.escape(v, quote=False) for key, v in typed.items()})
    if utf16_len(text) <= MAX_TEXT:
        return text
    frame = utf16_len(_card_text(data, style, dict.fromkeys(typed, "")))
    fitted = fit_escaped(list(typed.values()), MAX_TEXT - frame)
    return _card_text(data, style, dict(zip(typed, fitted, strict=True)))


def _card_text(data: CardData, style: CardStyle, shown: Mapping[str, str]) -> str:
    ticket, customer = data.ticket, data.customer
    lines = [
        style.text(
            "desk.card.title",
            marker=_marker(ticket),
            number=ticket.number,
            kind=style.plain(f"desk.kind.{ticket.kind}"),
            category=style.category_titles.get(ticket.category, ticket.category),
        ),
        style.text(
            "desk.card.status",
            status=style.plain(f"desk.status.{ticket.status}"),
            priority=style.plain(f"desk.priority.{ticket.priority}"),
        ),
        style.text(
            "desk.card.team",
            team=ticket.team or style.plain("desk.card.no_team"),
            assignee=_agent_label(data.assignee, style),
        ),
        style.text(
            "desk.card.customer",
            customer=mention(customer.telegram_id, customer_name(customer)),
            username=f"@{customer.username}" if customer.username else "—",
            telegram_id=customer.telegram_id,
            language=customer.locale,
            earlier=style.count("count.tickets", data.earlier_tickets),
        ),
    ]
    if customer.is_banned:
        lines.append(style.text("desk.card.banned"))
    if customer.is_unreachable:
        lines.append(style.text("desk.card.unreachable"))
    if ticket.contact_phone:
        lines.append(style.text("desk.card.phone", phone=ticket.contact_phone))
    if ticket.incident_date:
        lines.append(style.text("desk.card.incident", date=style.day(ticket.incident_date)))
    for field_id in ticket.fields or {}:
        lines.append(
            style.text(
                "desk.card.field",
                name=style.field_titles.get(field_id, field_id),
                value=Markup(shown[f"field:{field_id}"]),
            )
        )
    lines.append(
        style.text(
            "desk.card.created",
            created=style.moment(ticket.created_at),
        )
    )
    finished = not ticket.status.is_open
    lines.append(
        style.text(
            "desk.card.due",
            first=_due(ticket.first_response_at is None, ticket.first_response_due, style),
            resolution=_due(not finished, ticket.resolution_due, style),
        )
    )
    if ticket.resolution_type and finished:  # a reopened ticket's old decision is history
        lines.append(
            style.text(
                "desk.card.resolution",
                decision=style.plain(f"desk.resolution.{ticket.resolution_type}"),
                text=Markup(shown["resolution"]),
            )
        )
    if ticket.rating is not None:
        lines.append(
            style.text("desk.card.rating", rating=ticket.rating, comment=Markup(shown["comment"]))
        )
    head = "\n".join(lines)
    label = style.text("desk.card.description")
    related = related_text(data, style)
    tail = f"\n\n{related}" if related else ""
    incident = incident_text(data, style)
    tail = f"\n\n{incident}{tail}" if incident else tail
    body = style.text("desk.card.description_text", text=Markup(shown["description"]))
    return f"{head}\n\n{label}\n{body}{tail}"


def _due(pending: bool, due: object, style: CardStyle) -> str:
    if not pending:
        return style.plain("desk.card.done")
    if isinstance(due, datetime):
        return style.moment(due)
    return "—"


def _button(
    style: CardStyle, key: str, action: str, ticket_id: int, value: str = ""
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=style.plain(key),
        callback_data=CardCallback(action=action, ticket_id=ticket_id, value=value).pack(),
    )


def card_keyboard(data: CardData, style: CardStyle) -> InlineKeyboardMarkup:
    ticket = data.ticket
    tid = ticket.id
    if not ticket.status.is_open:
        rows = [
            [_button(style, "desk.button.reopen", "reopen", tid)],
            [_button(style, "desk.button.history", "history", tid)],
        ]
        return InlineKeyboardMarkup(inline_keyboard=rows)
    rows = [
        [
            _button(style, "desk.button.take", "take", tid),
            _button(style, "desk.button.assign", "assign", tid),
        ],
        [
            _button(style, "desk.button.in_progress", "status", tid, "in_progress"),
            _button(style, "desk.button.waiting", "status", tid, "waiting_customer"),
            _button(style, "desk.button.resolved", "resolve", tid),
        ],
        [
            _button(style, "desk.button.priority", "priority", tid),
            _button(style, "desk.button.close", "close", tid),
        ],
        *related_rows(data, style),
        [_button(style, "desk.button.history", "history", tid)],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def priority_keyboard(ticket_id: int, style: CardStyle) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=style.plain(f"desk.priority.{p.value}"),
                callback_data=CardCallback(
                    action="priority_set", ticket_id=ticket_id, value=p.value
                ).pack(),
            )
            for p in Priority
        ],
        [_button(style, "desk.button.back", "back", ticket_id)],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def assign_keyboard(
    ticket_id: int, agents: list[AgentView], style: CardStyle
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=style.plain(
                    "desk.button.agent" if agent.available else "desk.button.agent_away",
                    name=agent.display_name,
                ),
                callback_data=CardCallback(
                    action="assign_to", ticket_id=ticket_id, value=str(agent.telegram_id)
                ).pack(),
            )
        ]
        for agent in agents[:20]
    ]
    rows.append([_button(style, "desk.button.back", "back", ticket_id)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
