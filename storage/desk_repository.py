"""SQL of ticket consistency: the form a ticket was filed from. Keyword-only arguments."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from storage.desk_models import FormSubmission
from storage.repositories import _Repository


class FormSubmissionRepository(_Repository):
    async def ticket_for(self, *, form_id: str) -> int | None:
        result = await self.session.exec(
            select(FormSubmission.ticket_id).where(FormSubmission.form_id == form_id)
        )
        found = result.first()
        return int(found) if found is not None else None

    async def add(self, *, form_id: str, ticket_id: int, now: datetime) -> None:
        self.session.add(FormSubmission(form_id=form_id, ticket_id=ticket_id, created_at=now))
        await self.session.flush()
