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
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Select,
    Table,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)

from storage.dialects import INSERTS, among, none_of, one_of
from storage.outbox_models import (
    CONVERSATION,
    LANES,
    OUTBOX,
    PENDING,
    SENDING,
    SENT,
    OutboxMessage,
)
from storage.staff_models import MessageLink
from storage.unit_of_work import Database

LINKS: Table = MessageLink.__table__  # type: ignore[attr-defined]

Choose = Callable[[Sequence[OutboxMessage]], list[OutboxMessage]]
# Claims of several instances on PostgreSQL take turns (a transaction-level advisory lock),
# so two instances never claim two messages of one chat at once and send them out of order.
# The only instance (`SINGLE_INSTANCE=true`, which no other instance runs beside:
# storage/instance_lock.py) claims without it, each statement on its own.
_CLAIM_LOCK = text("SELECT pg_advisory_xact_lock(7300310001)")


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


# A chat is held while one of its messages waits for a retry or is being sent (a lease not
# run out): its later messages wait, so a chat gets them in order, also across instances.
_HELD = select(OUTBOX.c.chat_id).where(
    among(OUTBOX.c.status, (PENDING, SENDING)),
    OUTBOX.c.next_attempt_at > bindparam("now"),
    or_(OUTBOX.c.status == SENDING, OUTBOX.c.attempts > 0),
)
# Each lane's pending rows, oldest first, read off `ix_outbox_lane_queue`: the cost follows the
# rows read, not the length of the queue behind them. Whether a row is due is checked on the
# rows read (pending rows not due yet are few: albums collecting their parts; rows waiting
# for a retry hold their chat and are left out here); with the due time in the query SQLite
# would take the due-time index and sort every due row of the lane. Rows whose sending lease
# ran out (their sender died) come first in their lane: few, and taken over first. All of it
# is one statement (each lane a sub-select of its own, so each keeps its index), one round
# trip per round instead of one per lane.
_LANE_ORDER = sorted(set(LANES.values()) | {CONVERSATION})
_EXPIRED_FIRST, _PENDING_NEXT = 0, 1


def _due_candidates(dialect: str) -> Executable:
    not_held_or_paced = (
        OUTBOX.c.chat_id.not_in(_HELD.scalar_subquery()),
        none_of(dialect, OUTBOX.c.chat_id, "paced"),
    )
    expired = select(
        OUTBOX.c.id,
        OUTBOX.c.chat_id,
        OUTBOX.c.next_attempt_at,
        OUTBOX.c.lane,
        literal(_EXPIRED_FIRST).label("part"),
    ).where(
        OUTBOX.c.status == SENDING,
        OUTBOX.c.next_attempt_at <= bindparam("now"),
        *not_held_or_paced,
    )

    def lane_pending(lane: int) -> Select[Any]:
        pending = (
            select(
                OUTBOX.c.id,
                OUTBOX.c.chat_id,
                OUTBOX.c.next_attempt_at,
                OUTBOX.c.lane,
                literal(_PENDING_NEXT).label("part"),
            )
            .where(OUTBOX.c.status == PENDING, OUTBOX.c.lane == lane, *not_held_or_paced)
            .order_by(OUTBOX.c.id)
            .limit(bindparam("scan"))
            .subquery(f"lane_{lane}")
        )
        return select(pending)

    return union_all(
        select(expired.subquery("expired")), *(lane_pending(lane) for lane in _LANE_ORDER)
    )


@dataclass(frozen=True, slots=True)
class _Statements:
    """The round's statements that take lists of ids, for one database (`storage/dialects.py`
    `one_of`: on PostgreSQL one prepared statement whatever the number of rows)."""

    due_candidates: Executable
    rows: Executable
    claim: Executable
    renew: Executable
    release: Executable


def _statements(dialect: str) -> _Statements:
    def ids() -> ColumnElement[bool]:
        return one_of(dialect, OUTBOX.c.id, "ids")

    return _Statements(
        due_candidates=_due_candidates(dialect),
        rows=select(OUTBOX).where(ids()),
        claim=update(OUTBOX)
        .where(
            ids(),
            among(OUTBOX.c.status, (PENDING, SENDING)),
            OUTBOX.c.next_attempt_at <= bindparam("now"),
        )
        .values(status=SENDING, attempts=OUTBOX.c.attempts + 1, next_attempt_at=bindparam("lease"))
        .returning(OUTBOX.c.id),
        renew=update(OUTBOX)
        .where(ids(), OUTBOX.c.status == SENDING)
        .values(next_attempt_at=bindparam("lease")),
        release=update(OUTBOX)
        .where(ids(), OUTBOX.c.status == SENDING)
        .values(status=PENDING, next_attempt_at=bindparam("now"), attempts=OUTBOX.c.attempts - 1),
    )


_STATEMENTS = {dialect: _statements(dialect) for dialect in INSERTS}
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
# PostgreSQL: a sent row and its one link in one statement (atomic on its own, so it runs
# without BEGIN and COMMIT: one round trip instead of four while the chat's next message waits).
_MARKED = _MARK_SENT.returning(OUTBOX.c.id).cte("marked")
_LINK_COLUMNS = (
    "ticket_id",
    "source_chat_id",
    "source_message_id",
    "copy_chat_id",
    "copy_message_id",
    "created_at",
)
_MARK_SENT_WITH_LINK = insert(LINKS).from_select(
    list(_LINK_COLUMNS),
    select(
        *(bindparam(f"link_{name}", type_=LINKS.c[name].type) for name in _LINK_COLUMNS)
    ).select_from(_MARKED),
)
_NEXT_DUE = select(func.min(OUTBOX.c.next_attempt_at)).where(
    among(OUTBOX.c.status, (PENDING, SENDING)), OUTBOX.c.next_attempt_at > bindparam("now")
)


def _due_ids(
    connection: Connection,
    sql: _Statements,
    now: datetime,
    limit: int,
    per_chat: int,
    paced: list[int],
) -> list[int]:
    """Ids of due rows, lane by lane and oldest first, at most `per_chat` of one chat and
    `limit` in all. A lane is read up to twice `limit` rows: a chat with many rows early in
    the queue takes `per_chat` and leaves room for the others."""
    lanes: dict[int, list[tuple[int, int, int]]] = {}
    found = connection.execute(sql.due_candidates, {"now": now, "paced": paced, "scan": 2 * limit})
    for row_id, chat_id, due, lane, part in found:
        if part == _PENDING_NEXT and due > now:
            continue
        lanes.setdefault(int(lane), []).append((int(part), int(row_id), int(chat_id)))
    taken: list[int] = []
    per: dict[int, int] = {}
    for lane in sorted(lanes):
        for _part, row_id, chat_id in sorted(lanes[lane]):
            if per.get(chat_id, 0) >= per_chat:
                continue
            per[chat_id] = per.get(chat_id, 0) + 1
            taken.append(row_id)
            if len(taken) >= limit:
                return taken
    return taken


class DeliveryStore:
    def __init__(self, database: Database, *, only_claimer: bool = False) -> None:
        """`only_claimer`: no other process claims rows of this database (the only instance):
        a round reads and claims outside a transaction, without the claim lock (three round
        trips on PostgreSQL instead of six). Its claim takes only rows still pending or whose
        lease ran out, and due: what changed since the read is not taken."""
        self._database = database
        self._sql = _STATEMENTS[database.dialect]
        self._only_claimer = only_claimer

    async def claim_due(
        self,
        *,
        now: datetime,
        limit: int,
        per_chat: int,
        paced: Sequence[int],
        lease_until: datetime,
        choose: Choose,
    ) -> list[OutboxMessage]:
        """Read the due rows of every chat that may send (see `_due_ids`; `paced` chats are
        left out), let `choose` pick the rows to send now (in the order to send them), and
        claim those (`sending` with a lease); returns the rows actually claimed, in order."""

        def work(connection: Connection) -> list[OutboxMessage]:
            if connection.dialect.name == "postgresql" and not self._only_claimer:
                connection.execute(_CLAIM_LOCK)
            ids = _due_ids(connection, self._sql, now, limit, per_chat, list(paced))
            if not ids:
                return []
            position = {row_id: index for index, row_id in enumerate(ids)}
            found = connection.execute(self._sql.rows, {"ids": list(ids)}).all()
            rows = sorted(
                (OutboxMessage(**row._mapping) for row in found),
                key=lambda row: position[row.id or 0],
            )
            chosen = choose(rows)
            if not chosen:
                return []
            claimed = connection.execute(
                self._sql.claim,
                {"ids": [row.id for row in chosen], "now": now, "lease": lease_until},
            ).all()
            won = {int(row_id) for (row_id,) in claimed}
            return [row for row in chosen if row.id in won]

        if self._only_claimer:
            return await self._database.run_each(work)
        return await self._database.run_short(work)

    async def next_due_after(self, *, now: datetime) -> datetime | None:
        """When the next row that is not due yet falls due (a retry, a lease, a delay)."""

        def work(connection: Connection) -> datetime | None:
            value = connection.scalar(_NEXT_DUE, {"now": now})
            return value if isinstance(value, datetime) else None

        return await self._database.read_short(work)

    async def renew(self, *, ids: Sequence[int], lease_until: datetime) -> None:
        """Extend the lease of rows still being sent (a live sender keeps its claim)."""
        if not ids:
            return

        def work(connection: Connection) -> None:
            connection.execute(self._sql.renew, {"ids": list(ids), "lease": lease_until})

        await self._database.run_each(work)

    async def record_sent(self, *, now: datetime, sent: SentRow, links: Sequence[NewLink]) -> None:
        """Record one sent row with the links it made (`finish` for one row; on PostgreSQL a
        row with at most one link is a single statement)."""
        if self._database.engine.dialect.name != "postgresql" or len(links) > 1:
            await self.finish(now=now, sent=[sent], links=links, released=[])
            return
        params: dict[str, object] = {
            "row_id": sent.message_id,
            "copy_id": sent.sent_message_id,
            "now": now,
        }
        statement: Executable = _MARK_SENT
        if links:
            statement = _MARK_SENT_WITH_LINK
            link = links[0]
            params.update(
                link_ticket_id=link.ticket_id,
                link_source_chat_id=link.source_chat_id,
                link_source_message_id=link.source_message_id,
                link_copy_chat_id=link.copy_chat_id,
                link_copy_message_id=link.copy_message_id,
                link_created_at=now,
            )

        def work(connection: Connection) -> None:
            connection.execute(statement, params)

        await self._database.run_each(work)

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
                connection.execute(self._sql.release, {"ids": list(released), "now": now})

        await self._database.run_short(work)
