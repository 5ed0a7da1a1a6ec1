"""SQL of ticket consistency: the form a ticket was filed from, what its card shows.
Keyword-only arguments."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlmodel import col, select

from storage.desk_models import FormSubmission, TicketCard
from storage.dialects import INSERTS
from storage.outbox_models import OutboxMessage
from storage.repositories import KEEP, _Keep, _Repository

if TYPE_CHECKING:  # the unit of work module imports this one
    from storage.unit_of_work import Database


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


class RepliedMessageRepository(_Repository):
    async def ticket_of_sent(self, *, chat_id: int, message_id: int) -> int | None:
        """The ticket a message the bot sent into `chat_id` was about (from the outbox)."""
        result = await self.session.exec(
            select(OutboxMessage.ticket_id).where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.sent_message_id == message_id,
                col(OutboxMessage.ticket_id).is_not(None),
            )
        )
        found = result.first()
        return int(found) if found is not None else None


_CARDS = TicketCard.__table__  # type: ignore[attr-defined]


@cache
def _record_shown(dialect: str, columns: tuple[str, ...]) -> Any:
    """The upsert of what the group shows, for the columns given (built once each: building
    a statement costs more than running it)."""
    statement = INSERTS[dialect](_CARDS)
    return statement.on_conflict_do_update(
        index_elements=[_CARDS.c.ticket_id],
        set_={column: statement.excluded[column] for column in columns},
    )


async def record_card_shown(
    database: Database,
    *,
    ticket_id: int,
    now: datetime,
    card_digest: str | _Keep | None = KEEP,
    topic_name: str | _Keep | None = KEEP,
) -> None:
    """Remember what the group shows of the ticket (parts not given stay as they are), in
    one statement that commits by itself."""
    shown: dict[str, object] = {"updated_at": now}
    if not isinstance(card_digest, _Keep):
        shown["card_digest"] = card_digest
    if not isinstance(topic_name, _Keep):
        shown["topic_name"] = topic_name
    statement = _record_shown(database.dialect, tuple(shown))

    def work(connection: Connection) -> None:
        connection.execute(statement, {"ticket_id": ticket_id, **shown})

    await database.run_each(work)
