"""One topic per ticket: created once (even under concurrency), re-created when deleted, and the
card kept up to date. Without topics (a plain group) the card is one message in the chat.

Only the delivery worker creates topics (`open_topic` and any row meant for a ticket's topic)
and refreshes cards (`refresh_card` rows): handlers ask for a refresh through the outbox, so
one path edits a card, under the ticket's lock, and an unchanged card is never sent twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup

from bot.domain.clock import Clock
from bot.services.desk import CardData, CardRelated
from bot.services.desk.cards import CardQueries
from bot.services.desk.topics import TopicRecords
from bot.services.kb_desk import KnowledgeDesk
from bot.telegram.delivery import Pacer
from bot.telegram.staff.card import CardStyle, card_keyboard, render_card, topic_name
from bot.telegram.staff.incident_card import IncidentLookup, incident_refs
from bot.telegram.staff.kb_card import related_articles
from bot.telegram.staff.locks import TicketLocks

log = logging.getLogger(__name__)
FORUM_RECHECK = timedelta(minutes=10)

K = TypeVar("K")
V = TypeVar("V")
TICKET_CACHE_SIZE = 10_000


class Recent(Generic[K, V]):
    """A small LRU map: what is known about the most recently used tickets, bounded."""

    def __init__(self, size: int = TICKET_CACHE_SIZE) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


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
        clock: Clock,
        cards: CardQueries,
        records: TopicRecords,
        style: CardStyle,
        locks: TicketLocks,
        pacer: Pacer,
        *,
        chat_id: int,
        knowledge: KnowledgeDesk | None = None,
        incidents: IncidentLookup | None = None,
        cache_size: int = TICKET_CACHE_SIZE,
    ) -> None:
        self._bot = bot
        self._clock = clock
        self._cards = cards
        self._records = records
        self._style = style
        self._locks = locks
        self._pacer = pacer
        self.chat_id = chat_id
        self.fallback_mode = False
        self._forum_checked_at: datetime | None = None
        # Topics known to exist (ticket -> topic); saves a read per relayed message. Only the
        # delivery worker reads and writes it (one task), so it never goes back to a replaced
        # topic.
        self._known: Recent[int, int] = Recent(cache_size)
        # Related knowledge-base articles on the card (None: no knowledge base).
        self._knowledge = knowledge
        # The incident a ticket is linked to or resembles.
        self._incidents = incidents

    # ------------------------------------------------------------------ worker's port

    async def thread_for(self, ticket_id: int) -> int | None:
        return await self.ensure(ticket_id)

    async def thread_lost(self, ticket_id: int, thread_id: int | None) -> None:
        async with self._locks.hold(ticket_id):
            self._known.pop(ticket_id)
            data = await self._cards.card_data(ticket_id)
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
            self._known.put(ticket_id, topic)
        return topic

    async def _ensure(self, ticket_id: int) -> int | None:
        data = await self._cards.card_data(ticket_id)
        if self._complete(data):
            return data.ticket.topic_id
        async with self._locks.hold(ticket_id):
            data = await self._cards.card_data(ticket_id)
            if self._complete(data):
                return data.ticket.topic_id
            topic = data.ticket.topic_id
            if topic is None:
                topic = await self._create(data, previous_topic=None)
            else:  # the topic was made but its card was not posted (that call failed)
                await self._post_card(data, topic)
            await self._records.queue_form_files(ticket_id=data.ticket.id, chat_id=self.chat_id)
            return topic

    def _complete(self, data: CardData) -> bool:
        """The ticket has its topic (or, without topics, its card message) and its card."""
        ticket = data.ticket
        has_place = ticket.topic_id is not None or self.fallback_mode
        return has_place and ticket.card_message_id is not None

    async def _create(self, data: CardData, *, previous_topic: int | None) -> int | None:
        ticket = data.ticket
        topic: int | None = None
        await self._check_forum()
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
                won = await self._records.claim_topic(
                    ticket_id=ticket.id, topic_id=topic, previous=previous_topic
                )
                if not won:
                    await self._bot.delete_forum_topic(self.chat_id, topic)
                    return (await self._cards.card_data(ticket.id)).ticket.topic_id
                await self._cards.record_card_shown(ticket.id, topic_name=name)
                data = replace(data, ticket=replace(ticket, topic_id=topic, card_message_id=None))
        await self._post_card(data, topic)
        return topic

    async def _check_forum(self) -> None:
        """Whether the group has topics, from getChat's `is_forum` (not from a failing
        createForumTopic); asked again now and then, so turning topics on takes effect."""
        now = self._clock.now()
        if self._forum_checked_at is not None and now - self._forum_checked_at < FORUM_RECHECK:
            return
        chat = await self._bot.get_chat(self.chat_id)
        self._forum_checked_at = now
        if not chat.is_forum and not self.fallback_mode:
            log.warning("the staff group has no topics: fallback mode")
        self.fallback_mode = not chat.is_forum

    async def _post_card(self, data: CardData, topic: int | None) -> None:
        ticket = data.ticket
        data = await self._with_related(data)
        text = render_card(data, self._style)
        keyboard = card_keyboard(data, self._style)
        message = await self._bot.send_message(
            self.chat_id,
            text,
            message_thread_id=topic,
            reply_markup=keyboard,
            parse_mode="HTML",
        )
        digest = card_digest(message.message_id, text, keyboard)
        await self._cards.record_card_shown(ticket.id, card_digest=digest)
        self._pacer.record(self.chat_id, self._clock.now())
        await self._records.claim_card(
            ticket_id=ticket.id,
            chat_id=self.chat_id,
            message_id=message.message_id,
            previous=ticket.card_message_id,
        )

    async def _with_related(self, data: CardData) -> CardData:
        """The card data with what the card shows beside the ticket."""
        incident, suggested = await incident_refs(data, self._incidents)
        articles = await related_articles(data, self._knowledge)
        return replace(data, related=CardRelated(articles, incident, suggested))

    # ----------------------------------------------------------------------- refreshing

    async def card_keyboard_replaced(self, ticket_id: int) -> None:
        """The card's buttons were swapped for a menu: the next refresh must edit the card."""
        await self._cards.record_card_shown(ticket_id, card_digest=None)

    async def refresh(self, ticket_id: int) -> None:
        """Edit the card in place and rename the topic when its name (status) changed.

        The delivery worker's part for `refresh_card` rows (every change the card shows
        enqueues one). Held under the ticket's lock, so two refreshes of one ticket take turns
        and the second finds the card already shown: a card identical to the one last shown
        is not sent again, an unchanged topic name is not set again (what was shown is stored,
        so this holds whichever instance refreshes).
        """
        async with self._locks.hold(ticket_id):
            await self._refresh(ticket_id)

    async def _refresh(self, ticket_id: int) -> None:
        data, (shown_card, shown_name) = await self._cards.card_and_shown(ticket_id)
        ticket = data.ticket
        if ticket.card_message_id is None:
            return
        data = await self._with_related(data)
        now = self._clock.now()
        text = render_card(data, self._style)
        keyboard = card_keyboard(data, self._style)
        digest = card_digest(ticket.card_message_id, text, keyboard)
        # What the group now shows, recorded once after both calls (a crash in between only
        # makes the next refresh repeat an edit, which Telegram answers "not modified").
        shown: dict[str, str] = {}
        if shown_card != digest:
            try:
                await self._bot.edit_message_text(
                    text,
                    chat_id=self.chat_id,
                    message_id=ticket.card_message_id,
                    reply_markup=keyboard,
                    parse_mode="HTML",
                )
                self._pacer.record(self.chat_id, now)
                shown["card_digest"] = digest
            except TelegramBadRequest as error:
                if _harmless(error):
                    shown["card_digest"] = digest
                else:
                    log.warning("card of ticket %s not updated: %s", ticket_id, error.message)
        name = topic_name(data, self._style)
        if ticket.topic_id is not None and shown_name != name:
            try:
                await self._bot.edit_forum_topic(self.chat_id, ticket.topic_id, name=name)
                self._pacer.record(self.chat_id, now)
                shown["topic_name"] = name
            except TelegramBadRequest as error:
                if _harmless(error):
                    shown["topic_name"] = name
                else:
                    log.warning("topic of ticket %s not renamed: %s", ticket_id, error.message)
        if shown:
            await self._cards.record_card_shown(ticket_id, **shown)


def card_digest(message_id: int, text: str, keyboard: InlineKeyboardMarkup) -> str:
    """Identifies what a card shows (its message, text and buttons)."""
    shown = f"{message_id}\x00{text}\x00{keyboard.model_dump_json()}"
    return hashlib.sha256(shown.encode()).hexdigest()
