"""The delivery worker's hot path in two short transactions per round, with Core statements.

A round reads what is due and claims the rows it will send in one transaction, then records
every outcome of the round (sent rows, their message links, rows handed back) in a second one.
Both run through `Database.run_short`: on SQLite synchronously under the process's write
lock (microseconds instead of milliseconds), elsewhere on the async engine. The statements
are built once, with bound parameters: building a statement costs more than running it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from storage.outbox_models import OUTBOX, OutboxMessage
from storage.staff_models import MessageLink
from storage.staff_repositories import PENDING, SENDING, SENT
from storage.unit_of_work import Database

LINKS: Table = MessageLink.__table__  # type: ignore[attr-defined]

Choose = Callable[[Sequence[OutboxMessage], set[int]], list[OutboxMessage]]


@dataclass(frozen=True, slots=True)
class SentRow:
    message_id: int
    sent_message_id: int | None


@dataclass(frozen=True, slots=True)
class NewLink:
    ticket_id: int
    source_chat_id: int
    source_message_id: int
    copy_chat_id: int
    copy_message_id: int


# What is due: pending rows and rows whose sending lease ran out.
_DUE = (
    select(OUTBOX)
    .where(
        OUTBOX.c.status.in_((PENDING, SENDING)),
        OUTBOX.c.next_attempt_at <= bindparam("now"),
    )
    .order_by(OUTBOX.c.id)
    .limit(bindparam("limit"))
)
# Chats held by a retry: their later messages wait, so a chat's messages stay in order.
_HELD = (
    select(OUTBOX.c.chat_id)
    .where(
        OUTBOX.c.status == PENDING,
        OUTBOX.c.attempts > 0,
        OUTBOX.c.next_attempt_at > bindparam("now"),
    )
    .distinct()
)
_CLAIM = (
    update(OUTBOX)
    .where(
        OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
        OUTBOX.c.status.in_((PENDING, SENDING)),
        OUTBOX.c.next_attempt_at <= bindparam("now"),
    )
    .values(status=SENDING, attempts=OUTBOX.c.attempts + 1, next_attempt_at=bindparam("lease"))
    .returning(OUTBOX.c.id)
)
_MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row_id"))
    .values(
        status=SENT,
        sent_at=bindparam("now"),
        sent_message_id=bindparam("copy_id"),
        last_error=None,
    )
)
_ADD_LINK = insert(LINKS)
_RELEASE = (
    update(OUTBOX)
    .where(OUTBOX.c.id.in_(bindparam("ids", expanding=True)), OUTBOX.c.status == SENDING)
    .values(status=PENDING, next_attempt_at=bindparam("now"), attempts=OUTBOX.c.attempts - 1)
)


class DeliveryStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def claim_due(
        self, *, now: datetime, limit: int, lease_until: datetime, choose: Choose
    ) -> list[OutboxMessage]:
        """Read the due rows and the chats held by a retry, let `choose` pick the rows to send
        now, and claim those (`sending` with a lease); returns the rows actually claimed."""

        def work(connection: Connection) -> list[OutboxMessage]:
            due = connection.execute(_DUE, {"now": now, "limit": limit}).all()
            if not due:
                return []
            held = connection.execute(_HELD, {"now": now}).all()
            rows = [OutboxMessage(**row._mapping) for row in due]
            chosen = choose(rows, {int(chat) for (chat,) in held})
            if not chosen:
                return []
            claimed = connection.execute(
                _CLAIM, {"ids": [row.id for row in chosen], "now": now, "lease": lease_until}
            ).all()
            won = {int(row_id) for (row_id,) in claimed}
            return [row for row in chosen if row.id in won]

        return await self._database.run_short(work)

    async def finish(
        self,
        *,
        now: datetime,
        sent: Sequence[SentRow],
        links: Sequence[NewLink],
        released: Sequence[int],
    ) -> None:
        """Record a round: rows sent (with the message links they made) and claimed rows that
        were not tried after all (back to `pending`, the claim not counted as an attempt)."""
        if not sent and not released:
            return

        def work(connection: Connection) -> None:
            if sent:
                connection.execute(
                    _MARK_SENT,
                    [
                        {"row_id": row.message_id, "copy_id": row.sent_message_id, "now": now}
                        for row in sent
                    ],
                )
            if links:
                connection.execute(
                    _ADD_LINK,
                    [
                        {
                            "ticket_id": link.ticket_id,
                            "source_chat_id": link.source_chat_id,
                            "source_message_id": link.source_message_id,
                            "copy_chat_id": link.copy_chat_id,
                            "copy_message_id": link.copy_message_id,
                            "created_at": now,
                        }
                        for link in links
                    ],
                )
            if released:
                connection.execute(_RELEASE, {"ids": list(released), "now": now})

        await self._database.run_short(work)
