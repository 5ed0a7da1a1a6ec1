"""An incident's own topic in the staff group and its card (kept current after every change),
and what the incident handlers share."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.domain.clock import Clock
from bot.domain.incidents import IncidentStatus
from bot.locales.catalog import Catalogs
from bot.services.desk import DeskError, DeskService
from bot.services.incidents import IncidentLifecycle, IncidentService, IncidentView
from bot.telegram.i18n import t
from bot.telegram.text_limits import TEXT_LIMIT, shorten, utf16_len

log = logging.getLogger(__name__)
MAX_TOPIC_NAME = 128
CARD_TICKETS = 30
PUBLIC_LENGTH = 1500


class IncidentCallback(CallbackData, prefix="inc"):
    """An alert's or an incident card's button: `action` on alert or incident `id`."""

    action: str  # declare, dismiss, show (alert); status (incident)
    id: int
    value: str = ""


def fit(lines: list[str]) -> str:
    """As many whole lines (HTML) as fit into one message."""
    kept: list[str] = []
    size = 0
    for line in lines:
        size += utf16_len(line) + 1
        if size > TEXT_LIMIT:
            break
        kept.append(line)
    return "\n".join(kept)


def _since(moment: datetime | None, now: datetime) -> int:
    return max(0, int((now - moment).total_seconds() // 60)) if moment else 0


class IncidentTopics:
    """Each incident's topic and its card (kept current after every change)."""

    def __init__(
        self,
        bot: Bot,
        lifecycle: IncidentLifecycle,
        catalogs: Catalogs,
        clock: Clock,
        *,
        chat_id: int,
        locale: str,
    ) -> None:
        self._bot = bot
        self._lifecycle = lifecycle
        self._catalogs = catalogs
        self._clock = clock
        self.chat_id = chat_id
        self.locale = locale
        self._topics: set[int] = set()

    def text(self, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, self.locale, **params)

    def plain(self, key: str, /, **params: Any) -> str:
        return self._catalogs.plain(key, self.locale, **params)

    async def is_incident_topic(self, thread_id: int) -> bool:
        """Known incident topics are remembered; any other topic is looked up (only commands
        ask, and another instance may have opened the topic)."""
        if thread_id in self._topics:
            return True
        if await self._lifecycle.by_topic(thread_id) is None:
            return False
        self._topics.add(thread_id)
        return True

    def render(self, view: IncidentView) -> str:
        incident = view.incident
        now = self._clock.now()
        detected = incident.first_ticket_at or incident.declared_at
        by_status: dict[str, list[str]] = {}
        for linked in view.tickets:
            by_status.setdefault(linked.status, []).append(linked.number)
        lines = [
            self.text("incidents.card.title", number=incident.number, title=incident.title),
            self.text(
                "incidents.card.status",
                status=self.plain(f"incidents.status.{incident.status}"),
                minutes=_since(detected, now),
            ),
            self.text("incidents.card.public", text=shorten(incident.public_text, PUBLIC_LENGTH)),
            self.text(
                "incidents.card.linked",
                tickets=self._catalogs.count("count.tickets", self.locale, len(view.tickets)),
            ),
        ]
        for status, numbers in sorted(by_status.items()):
            shown = ", ".join(numbers[:CARD_TICKETS])
            more = len(numbers) - CARD_TICKETS
            lines.append(
                self.text(
                    "incidents.card.status_line",
                    status=self.plain(f"desk.status.{status}"),
                    count=len(numbers),
                    numbers=shown + (f" +{more}" if more > 0 else ""),
                )
            )
        if incident.resolution_text:
            lines.append(
                self.text(
                    "incidents.card.resolution",
                    decision=self.plain(f"desk.resolution.{incident.resolution_type}"),
                    text=incident.resolution_text,
                )
            )
        return fit(lines)

    def keyboard(self, view: IncidentView) -> InlineKeyboardMarkup | None:
        incident = view.incident
        assert incident.id is not None
        if incident.status not in IncidentStatus.OPEN:
            return None
        buttons = [
            InlineKeyboardButton(
                text=self.plain(f"incidents.button.{status}"),
                callback_data=IncidentCallback(
                    action="status", id=incident.id, value=status
                ).pack(),
            )
            for status in (IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)
            if IncidentStatus.ORDER.index(status) > IncidentStatus.ORDER.index(incident.status)
        ]
        return InlineKeyboardMarkup(inline_keyboard=[buttons])

    async def open(self, incident_id: int) -> int | None:
        """Create the incident's topic (a plain message without topics) and post its card."""
        view = await self._lifecycle.view(incident_id)
        incident = view.incident
        name = self.plain("incidents.topic.name", number=incident.number, title=incident.title)
        name = " ".join(name.split())[:MAX_TOPIC_NAME]
        topic: int | None = None
        try:
            created = await self._bot.create_forum_topic(self.chat_id, name)
            topic = created.message_thread_id
        except TelegramBadRequest as error:
            log.warning("no topic for incident %s: %s", incident.number, error.message)
        card = await self._bot.send_message(
            self.chat_id,
            self.render(view),
            message_thread_id=topic,
            reply_markup=self.keyboard(view),
        )
        await self._lifecycle.set_topic(
            incident_id, topic_id=topic, card_message_id=card.message_id
        )
        if topic is not None:
            self._topics.add(topic)
        return topic

    async def refresh(self, incident_id: int) -> None:
        view = await self._lifecycle.view(incident_id)
        if view.incident.card_message_id is None:
            return
        try:
            await self._bot.edit_message_text(
                self.render(view),
                chat_id=self.chat_id,
                message_id=view.incident.card_message_id,
                reply_markup=self.keyboard(view),
            )
        except TelegramBadRequest as error:
            if "not modified" not in error.message.lower():
                log.warning("card of incident %s not updated: %s", incident_id, error.message)


class InIncidentTopic(Filter):
    def __init__(self, topics: IncidentTopics) -> None:
        self._topics = topics

    async def __call__(self, message: Message) -> bool:
        thread = message.message_thread_id
        return bool(
            message.is_topic_message and thread and await self._topics.is_incident_topic(thread)
        )


@dataclass
class IncidentDesk:
    service: IncidentService
    topics: IncidentTopics | None
    desk: DeskService

    async def open_topic(self, incident_id: int) -> None:
        if self.topics is not None:
            await self.topics.open(incident_id)

    async def refresh(self, incident_id: int) -> None:
        if self.topics is not None:
            await self.topics.refresh(incident_id)

    async def incident_of(self, message: Message) -> int | None:
        if not message.message_thread_id:
            return None
        incident = await self.service.lifecycle.by_topic(message.message_thread_id)
        return incident.id if incident else None


def explain(error: DeskError) -> str:
    return t(error.key, **error.params)
