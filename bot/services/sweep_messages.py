"""Small helpers the sweeps use to word outbox messages: payloads, links, staff texts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.locales.catalog import Catalogs, Markup


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback_data: str


def text_payload(
    html_text: str, buttons: Sequence[Sequence[Button]] = (), *, ticket_topic: bool = False
) -> dict[str, Any]:
    """Payload of an outbox row of kind ``text`` (see ``bot/services/outbox.py``).

    ``ticket_topic`` sends a staff-group message into the ticket's current topic.
    """
    payload: dict[str, Any] = {"html": html_text}
    if ticket_topic:
        payload["ticket_topic"] = True
    if buttons:
        payload["buttons"] = [
            [{"text": button.text, "callback_data": button.callback_data} for button in row]
            for row in buttons
        ]
    return payload


def topic_url(chat_id: int, thread_id: int | None) -> str | None:
    """A t.me link that opens a topic of a supergroup for its members; None without one."""
    text = str(int(chat_id))
    if thread_id is None or not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{int(thread_id)}"


def linked(label: str, url: str | None) -> Markup:
    """`label` (escaped) as a link to `url`, or just the label without one."""
    escaped = html.escape(label, quote=False)
    if url is None:
        return Markup(escaped)
    return Markup(f'<a href="{html.escape(url)}">{escaped}</a>')


@dataclass(frozen=True)
class StaffTexts:
    """Renders staff-side texts in the desk's default language."""

    catalogs: Catalogs
    locale: str
    zone: ZoneInfo

    def render(self, key: str, /, **params: Any) -> str:
        return self.catalogs.render(key, self.locale, **params)

    def plain(self, key: str, /, **params: Any) -> str:
        return self.catalogs.plain(key, self.locale, **params)

    def moment(self, moment: datetime) -> str:
        return self.catalogs.format_datetime(moment, self.zone, self.locale)
