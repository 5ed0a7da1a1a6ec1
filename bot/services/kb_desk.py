"""The knowledge base at the staff desk: related articles on a ticket card, sent on request.

The articles related to a ticket are searched once (for the customer's description, in the
customer's language) and their ids stored on the ticket, so re-rendering the card never
searches again. Sending an article goes through the outbox like every message to a customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import ActorKind, EventKind
from bot.locales.catalog import Catalogs, Markup
from bot.services.answers import html_to_plain, record_staff_answer
from bot.services.desk import AgentRef, DeskError, TicketView, mention
from bot.services.knowledge import KnowledgeService
from bot.services.outbox import Notify, enqueue_text
from knowledge_base import Entry
from storage.models import Ticket
from storage.unit_of_work import Database, UnitOfWork

RELATED_LIMIT = 3
SEARCH_TEXT_LIMIT = 1000
EVENT_KIND = EventKind.KB_ARTICLE
# Presses of the same article within this time are one press (a double click, a retry).
REPEAT_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class RelatedArticle:
    entry_id: str
    title: str


@dataclass(frozen=True, slots=True)
class ArticleSent:
    ticket_number: str
    title: str
    sent: bool  # False: the same article was sent moments ago, nothing new was queued


class KnowledgeDesk:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        knowledge: KnowledgeService,
        catalogs: Catalogs,
        sla: SlaPolicy,
        *,
        staff_chat_id: int | None,
        staff_locale: str,
        notify: Notify | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._knowledge = knowledge
        self._catalogs = catalogs
        self._sla = sla
        self._staff_chat_id = staff_chat_id
        self._staff_locale = staff_locale
        self._notify = notify or (lambda: None)

    @property
    def knowledge(self) -> KnowledgeService:
        return self._knowledge

    # ---------------------------------------------------------------------- the card

    def search(self, description: str, locale: str) -> list[str]:
        """Ids of up to three entries that match the description well enough to suggest."""
        text = (description or "").strip()[:SEARCH_TEXT_LIMIT]
        if not text:
            return []
        base = self._knowledge.base
        return [
            match.entry_id
            for match in base.search(text, locale=locale, limit=RELATED_LIMIT)
            if match.score >= base.suggest_threshold
        ]

    async def related(self, ticket: TicketView, locale: str) -> list[RelatedArticle]:
        """The card's related articles (in the customer's `locale`); searched and stored the
        first time only."""
        ids = ticket.kb_articles
        if ids is None:
            found = self.search(ticket.description, locale)
            async with self._database.unit_of_work() as uow:
                await uow.tickets.set_related_articles(ticket_id=ticket.id, entry_ids=found)
            ids = tuple(found)
        articles = []
        for entry_id in ids:
            entry = self._knowledge.entry(entry_id, locale)
            if entry is not None:  # a reload may have removed it
                articles.append(RelatedArticle(entry.id, entry.questions[0]))
        return articles

    # ------------------------------------------------------------------ sending one

    async def send_article(
        self, ticket_id: int, entry_id: str, agent: AgentRef, *, cause: str
    ) -> ArticleSent:
        """Queue the article for the customer and a note for the ticket's topic.

        The outbox key counts the earlier sends of this article to this ticket that are older
        than `REPEAT_WINDOW`: a second press soon after the first (or the same update again)
        makes the same key and sends nothing; pressing again later sends it again.
        """
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket = await uow.tickets.get(ticket_id=ticket_id)
            if ticket is None or ticket.id is None:
                raise DeskError("desk.error.no_ticket")
            customer = await uow.customers.get(customer_id=ticket.customer_id)
            assert customer is not None
            entry = self._knowledge.entry(entry_id, customer.locale)
            if entry is None:
                raise DeskError("kb.card.gone")
            earlier = sum(
                1
                for at, data in await uow.events.times_and_data(
                    ticket_id=ticket.id, kind=EVENT_KIND
                )
                if data.get("entry_id") == entry.id and now - at >= REPEAT_WINDOW
            )
            article = self._article_html(entry, customer.locale)
            added = await enqueue_text(
                uow,
                key=f"kb-article:{ticket.id}:{entry.id}:{earlier}",
                chat_id=customer.telegram_id,
                html=article,
                now=now,
                ticket_id=ticket.id,
            )
            if added:
                await record_staff_answer(
                    uow,
                    ticket=ticket,
                    agent_id=agent.user_id,
                    now=now,
                    sla=self._sla,
                    content_type="text",
                    text=html_to_plain(article),
                )
                await uow.events.add(
                    ticket_id=ticket.id,
                    at=now,
                    kind=EVENT_KIND,
                    actor_kind=ActorKind.AGENT,
                    actor_id=agent.user_id,
                    data={"entry_id": entry.id, "locale": entry.locale, "cause": cause},
                )
                await self._note_in_topic(uow, ticket, entry, agent, now=now, cause=cause)
        if added:
            self._notify()
        return ArticleSent(ticket.number, entry.questions[0], sent=added)

    def _article_html(self, entry: Entry, locale: str) -> str:
        """The answer is Telegram HTML the loader has validated; the question is escaped."""
        return self._catalogs.render(
            "kb.card.article", locale, question=entry.questions[0], answer=Markup(entry.answer)
        )

    async def _note_in_topic(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        entry: Entry,
        agent: AgentRef,
        *,
        now: datetime,
        cause: str,
    ) -> None:
        if self._staff_chat_id is None:
            return
        staff = self._staff_locale
        note = self._catalogs.render(
            "kb.card.sent",
            staff,
            agent=mention(agent.user_id, agent.name),
            title=entry.questions[0],
        )
        await enqueue_text(
            uow,
            key=f"kb-article-note:{ticket.id}:{entry.id}:{cause}",
            chat_id=self._staff_chat_id,
            html=self._catalogs.render(
                "desk.event.frame", staff, number=ticket.number, text=Markup(note)
            ),
            now=now,
            ticket_id=ticket.id,
            ticket_topic=True,
            silent=True,
        )
