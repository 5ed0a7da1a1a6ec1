"""One topic per ticket: created once (even under concurrency), re-created when deleted, and the
card kept up to date. Without topics (a plain group) the card is one message in the chat."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.domain.clock import Clock
from bot.services.desk import CardData, DeskService
from bot.services.kb_desk import KnowledgeDesk
from bot.services.outbox import GROUPABLE_MEDIA, enqueue_media_group, media_item
from bot.telegram.delivery import Pacer
from bot.telegram.staff.card import CardStyle, card_keyboard, render_card, topic_name
from bot.telegram.staff.incident_card import IncidentLookup, attach_incident
from bot.telegram.staff.kb_card import attach_related
from bot.telegram.staff.locks import TicketLocks
from storage.unit_of_work import Database

log = logging.getLogger(__name__)


def _not_forum(error: TelegramBadRequest) -> bool:
    text = error.message.lower()
    return "not a forum" in text or "chat_not_forum" in text


def _harmless(error: TelegramBadRequest) -> bool:
    text = error.message.lower()
    return "not modified" in text or "topic_not_modified" in text


class StaffThreads:
    def __init__(
        self,
        bot: Bot,
        database: Database,
        clock: Clock,
        desk: DeskService,
        style: CardStyle,
        locks: TicketLocks,
        pacer: Pacer,
        *,
        chat_id: int,
    ) -> None:
        self._bot = bot
        self._database = database
        self._clock = clock
        self._desk = desk
        self._style = style
        self._locks = locks
        self._pacer = pacer
        self.chat_id = chat_id
        self.fallback_mode = False
        self._names: dict[int, str] = {}
        # The card last shown per ticket (message, text, buttons): an identical one is not resent.
        self._cards: dict[int, tuple[int, str, str]] = {}
        # Topics known to exist (ticket -> topic); saves a read per relayed message.
        self._known: dict[int, int] = {}
        # Related knowledge-base articles on the card (set by the wiring when there is a base).
        self.related: KnowledgeDesk | None = None
        # The incident a ticket is linked to or resembles (set by the wiring).
        self.incidents: IncidentLookup | None = None

    # ------------------------------------------------------------------ worker's port

    async def thread_for(self, ticket_id: int) -> int | None:
        return await self.ensure(ticket_id)

    async def thread_lost(self, ticket_id: int, thread_id: int | None) -> None:
        async with self._locks.hold(ticket_id):
            self._known.pop(ticket_id, None)
            data = await self._desk.card_data(ticket_id)
            if data.ticket.topic_id != thread_id:
                return  # somebody already replaced it
            log.info("topic %s of ticket %s is gone; creating a new one", thread_id, ticket_id)
            await self._create(data, previous_topic=thread_id)

    # ------------------------------------------------------------------------ creation

    async def ensure(self, ticket_id: int) -> int | None:
        """The ticket's topic (None in fallback mode), with its card; created at most once."""
        known = self._known.get(ticket_id)
        if known is not None:
            return known
        topic = await self._ensure(ticket_id)
        if topic is not None:
            self._known[ticket_id] = topic
        return topic

    async def _ensure(self, ticket_id: int) -> int | None:
        data = await self._desk.card_data(ticket_id)
        if data.ticket.topic_id is not None or (self.fallback_mode and data.ticket.card_message_id):
            return data.ticket.topic_id
        async with self._locks.hold(ticket_id):
            data = await self._desk.card_data(ticket_id)
            if data.ticket.topic_id is not None:
                return data.ticket.topic_id
            if self.fallback_mode and data.ticket.card_message_id:
                return None
            topic = await self._create(data, previous_topic=None)
            await self._enqueue_attachments(data)
            return topic

    async def _create(self, data: CardData, *, previous_topic: int | None) -> int | None:
        ticket = data.ticket
        assert ticket.id is not None
        topic: int | None = None
        if not self.fallback_mode:
            name = topic_name(data, self._style)
            try:
                created = await self._bot.create_forum_topic(self.chat_id, name)
            except TelegramBadRequest as error:
                if not _not_forum(error):
                    raise
                log.warning("the staff group has no topics: fallback mode")
                self.fallback_mode = True
            else:
                self._pacer.record(self.chat_id, self._clock.now())
                topic = created.message_thread_id
                async with self._database.unit_of_work() as uow:
                    won = await uow.staff_tickets.claim_topic(
                        ticket_id=ticket.id, topic_id=topic, previous=previous_topic
                    )
                if not won:
                    await self._bot.delete_forum_topic(self.chat_id, topic)
                    return (await self._desk.card_data(ticket.id)).ticket.topic_id
                self._names[ticket.id] = name
                ticket.topic_id = topic
                ticket.card_message_id = None
        await self._post_card(data, topic)
        return topic

    async def _post_card(self, data: CardData, topic: int | None) -> None:
        ticket = data.ticket
        assert ticket.id is not None
        await attach_related(data, self.related)
        await attach_incident(data, self.incidents)
        message = await self._bot.send_message(
            self.chat_id,
            render_card(data, self._style),
            message_thread_id=topic,
            reply_markup=card_keyboard(data, self._style),
            parse_mode="HTML",
        )
        now = self._clock.now()
        self._pacer.record(self.chat_id, now)
        async with self._database.unit_of_work() as uow:
            await uow.staff_tickets.claim_card(
                ticket_id=ticket.id, message_id=message.message_id, previous=ticket.card_message_id
            )
            await uow.links.add(
                ticket_id=ticket.id,
                source_chat_id=self.chat_id,
                source_message_id=message.message_id,
                copy_chat_id=self.chat_id,
                copy_message_id=message.message_id,
                now=now,
            )
        ticket.card_message_id = message.message_id

    async def _enqueue_attachments(self, data: CardData) -> None:
        ticket = data.ticket
        assert ticket.id is not None
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            files = [
                a
                for a in await uow.attachments.for_ticket(ticket_id=ticket.id)
                if a.message_id is None
            ]
            groups: dict[str, list[dict[str, Any]]] = {}
            for attachment in files:
                kind = attachment.kind if attachment.kind in GROUPABLE_MEDIA else "document"
                family = "visual" if kind in ("photo", "video") else kind
                groups.setdefault(family, []).append(
                    media_item(kind, attachment.file_id, source_message_id=None)
                )
            for family, items in groups.items():
                await enqueue_media_group(
                    uow,
                    key=f"card-files:{ticket.id}:{family}",
                    chat_id=self.chat_id,
                    items=items,
                    now=now,
                    ticket_id=ticket.id,
                    ticket_topic=True,
                )

    # ----------------------------------------------------------------------- refreshing

    def card_keyboard_replaced(self, ticket_id: int) -> None:
        """The card's buttons were swapped for a menu: the next refresh must edit the card."""
        self._cards.pop(ticket_id, None)

    async def refresh(self, ticket_id: int) -> None:
        """Edit the card in place and rename the topic when its name (status) changed.

        Called by the delivery worker for `refresh_card` rows (every status change enqueues
        one) and by the staff handlers right after an action; a card identical to the one last
        shown by this process is not sent again.
        """
        data = await self._desk.card_data(ticket_id)
        ticket = data.ticket
        if ticket.card_message_id is None:
            return
        await attach_related(data, self.related)
        await attach_incident(data, self.incidents)
        now = self._clock.now()
        text = render_card(data, self._style)
        keyboard = card_keyboard(data, self._style)
        shown = (ticket.card_message_id, text, keyboard.model_dump_json())
        if self._cards.get(ticket_id) != shown:
            try:
                await self._bot.edit_message_text(
                    text,
                    chat_id=self.chat_id,
                    message_id=ticket.card_message_id,
                    reply_markup=keyboard,
                    parse_mode="HTML",
                )
                self._pacer.record(self.chat_id, now)
                self._cards[ticket_id] = shown
            except TelegramBadRequest as error:
                if _harmless(error):
                    self._cards[ticket_id] = shown
                else:
                    log.warning("card of ticket %s not updated: %s", ticket_id, error.message)
        if ticket.topic_id is None:
            return
        name = topic_name(data, self._style)
        if self._names.get(ticket_id) == name:
            return
        try:
            await self._bot.edit_forum_topic(self.chat_id, ticket.topic_id, name=name)
            self._pacer.record(self.chat_id, now)
            self._names[ticket_id] = name
        except TelegramBadRequest as error:
            if not _harmless(error):
                log.warning("topic of ticket %s not renamed: %s", ticket_id, error.message)
