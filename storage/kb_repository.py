"""What customers asked the knowledge base. Methods take keyword-only arguments."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from storage.kb_models import KbQuery
from storage.repositories import _Repository


class KbQueryRepository(_Repository):
    async def add(self, *, query: KbQuery) -> KbQuery:
        self.session.add(query)
        await self.session.flush()
        return query

    async def get(self, *, query_id: int) -> KbQuery | None:
        return await self.session.get(KbQuery, query_id)

    async def save(self, *, query: KbQuery) -> None:
        self.session.add(query)

    async def unanswered_since(self, *, since: datetime, limit: int) -> list[tuple[str, str]]:
        """Text and locale of questions not answered or answered unhelpfully, newest first."""
        rows = await self.session.exec(
            select(KbQuery.text, KbQuery.locale)
            .where(
                col(KbQuery.asked_at) >= since,
                (col(KbQuery.decision) == "none") | (col(KbQuery.helpful).is_(False)),
            )
            .order_by(col(KbQuery.asked_at).desc())
            .limit(limit)
        )
        return [(text, locale) for text, locale in rows.all()]
