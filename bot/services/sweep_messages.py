"""Small helpers the sweeps use to word outbox messages: payloads, local times, mentions."""

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


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def user_mention(user_id: int, label: str) -> Markup:
    """A link that notifies the user when the message lands in a group."""
    return Markup(f'<a href="tg://user?id={int(user_id)}">{html.escape(label, quote=False)}</a>')


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
