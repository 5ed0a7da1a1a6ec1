"""Answering questions from the knowledge base, remembering them, and finding the gaps."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.domain.clock import Clock
from knowledge_base import Decision, Entry, KnowledgeBase, KnowledgeBaseError, LoadIssue
from storage.kb_models import KbQuery
from storage.models import Ticket
from storage.unit_of_work import Database

GAP_SIMILARITY = 72.0
GAP_WINDOW = timedelta(days=30)
GAP_SCAN_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class Answered:
    decision: Decision
    query_id: int


@dataclass
class Gap:
    """Similar questions the knowledge base could not answer (or answered unhelpfully)."""

    example: str
    count: int = 0
    samples: list[str] = field(default_factory=list)
    locales: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    entries: int
    errors: tuple[str, ...] = ()


def group_similar(
    texts: Sequence[tuple[str, str]], *, threshold: float = GAP_SIMILARITY
) -> list[Gap]:
    """Greedy clustering: each text joins the first group whose example it resembles.

    Quadratic in the number of distinct questions, so the comparisons run in rapidfuzz's
    native loop (`extract_iter` yields matches in the examples' order; the first is taken),
    and a question asked again in the same words goes straight to the group it joined.
    """
    groups: list[Gap] = []
    examples: list[str] = []  # each group's example, as compared
    group_of: dict[str, int] = {}
    for text, locale in texts:
        key = text.casefold().strip()
        index = group_of.get(key)
        if index is None:
            match = next(
                process.extract_iter(
                    key, examples, scorer=fuzz.token_set_ratio, score_cutoff=threshold
                ),
                None,
            )
            if match is None:
                group_of[key] = len(groups)
                groups.append(Gap(example=text, count=1, samples=[text], locales={locale}))
                examples.append(text.casefold())
                continue
            index = group_of[key] = match[2]
        group = groups[index]
        group.count += 1
        group.locales.add(locale)
        if len(group.samples) < 3 and text not in group.samples:
            group.samples.append(text)
    return sorted(groups, key=lambda g: (-g.count, g.example))


class KnowledgeService:
    """Holds the loaded base; a reload swaps it only when the new files load cleanly."""

    def __init__(
        self,
        base: KnowledgeBase,
        database: Database,
        clock: Clock,
        *,
        source: Path | None = None,
    ) -> None:
        self.base = base
        self._database = database
        self._clock = clock
        self._source = source

    def decide(self, text: str, locale: str) -> Decision:
        return self.base.decide(text, locale)

    def entry(self, entry_id: str, locale: str) -> Entry | None:
        return self.base.get(entry_id, locale)

    async def ask(self, *, customer_id: int | None, text: str, locale: str) -> Answered:
        """Decide on a question and store it with the decision, for learning from gaps."""
        decision = self.base.decide(text, locale)
        best = decision.best
        async with self._database.unit_of_work() as uow:
            query = KbQuery(
                customer_id=customer_id,
                locale=self.base.resolve_locale(locale),
                text=text[:4000],
                decision=decision.kind,
                entry_id=best.entry_id if best and decision.kind == "answer" else None,
                score=best.score if best else None,
                suggestions=[m.entry_id for m in decision.matches],
                asked_at=self._clock.now(),
            )
            await uow.kb_queries.add(query=query)
            assert query.id is not None
            return Answered(decision, query.id)

    async def record_choice(self, *, query_id: int, customer_id: int, entry_id: str) -> None:
        """The customer picked one of the suggestions."""
        async with self._database.unit_of_work() as uow:
            query = await uow.kb_queries.get(query_id=query_id)
            if query is not None and query.customer_id == customer_id:
                query.entry_id = entry_id
                await uow.kb_queries.save(query=query)

    async def record_feedback(
        self, *, query_id: int, customer_id: int, helpful: bool
    ) -> KbQuery | None:
        async with self._database.unit_of_work() as uow:
            query = await uow.kb_queries.get(query_id=query_id)
            if query is None or query.customer_id != customer_id:
                return None
            query.helpful = helpful
            await uow.kb_queries.save(query=query)
            return query

    async def link_ticket(self, *, query_id: int, customer_id: int | None, ticket: Ticket) -> None:
        """The question led to this ticket (for reporting what the base could not answer)."""
        async with self._database.unit_of_work() as uow:
            query = await uow.kb_queries.get(query_id=query_id)
            if query is None or query.customer_id != customer_id or ticket.id is None:
                return
            query.ticket_id = ticket.id
            await uow.kb_queries.save(query=query)

    async def question_text(self, *, query_id: int, customer_id: int) -> str | None:
        async with self._database.unit_of_work() as uow:
            query = await uow.kb_queries.get(query_id=query_id)
            if query is None or query.customer_id != customer_id:
                return None
            return query.text

    async def gaps(self, *, limit: int = 10, now: datetime | None = None) -> list[Gap]:
        """The most frequent unanswered or unhelpful questions of the last 30 days."""
        since = (now or self._clock.now()) - GAP_WINDOW
        async with self._database.unit_of_work() as uow:
            texts = await uow.kb_queries.unanswered_since(since=since, limit=GAP_SCAN_LIMIT)
        # Up to GAP_SCAN_LIMIT distinct questions compared pairwise: off the event loop.
        return (await asyncio.to_thread(group_similar, texts))[:limit]

    def reload(self) -> ReloadResult:
        """Load the files again; on any error keep serving the base already loaded."""
        if self._source is None:
            return ReloadResult(False, self._count(), ("no knowledge base folder configured",))
        try:
            fresh = KnowledgeBase.from_dir(
                self._source,
                default_locale=self.base.default_locale,
                answer_threshold=self.base.answer_threshold,
                suggest_threshold=self.base.suggest_threshold,
            )
        except KnowledgeBaseError as error:
            issues = tuple(str(self._relative(issue)) for issue in error.errors)
            return ReloadResult(False, self._count(), issues)
        self.base = fresh
        return ReloadResult(True, self._count())

    def _relative(self, issue: LoadIssue) -> LoadIssue:
        """The issue with its file named inside the knowledge base folder (no server paths)."""
        assert self._source is not None
        try:
            name = Path(issue.file).relative_to(self._source).as_posix()
        except ValueError:
            name = issue.file
        message = issue.message.replace(f"{self._source}{os.sep}", "")
        return LoadIssue(name, issue.entry_id, message)

    def _count(self) -> int:
        return sum(len(self.base.entries(locale)) for locale in self.base.locales)
