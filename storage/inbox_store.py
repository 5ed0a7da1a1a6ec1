"""The inbox of incoming updates: stored before they are confirmed, claimed, marked handled.

Every statement runs in a short transaction through `Database.run_short` (on SQLite on the
event loop under the process's write lock); those that stand alone (storing new updates,
marking one handled, a lease) commit by themselves through `Database.run_each`. Several
instances share the table: an update is handled by the instance that holds its claim
(`claimed_by`, `lease_until`); a lease that ran out (its instance died) lets another
instance, or the next start, take the update over. The update id is the key, so an update
delivered twice is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, case, delete, func, insert, or_, select, update

from storage.dialects import INSERTS, one_of, per_dialect
from storage.inbox_models import DONE, FAILED, INBOX, PENDING, UNREADABLE
from storage.unit_of_work import Database

# Returns the ids it stored: an id stored before is left as it is and not returned. (The
# row count cannot tell: for several rows at once asyncpg reports none.)
_INSERT_NEW = per_dialect(
    lambda insert: (
        insert(INBOX)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(INBOX.c.update_id)
    )
)


# Built once: building a statement costs more than running it.
_RENEW = {
    dialect: update(INBOX)
    .where(
        one_of(dialect, INBOX.c.update_id, "ids"),
        INBOX.c.claimed_by == bindparam("instance"),
        INBOX.c.state == PENDING,
    )
    .values(lease_until=bindparam("lease"))
    for dialect in INSERTS
}
_FINISH = (
    update(INBOX)
    .where(INBOX.c.update_id == bindparam("uid"))
    .values(
        state=bindparam("state"),
        error=bindparam("error"),
        lease_until=None,
        done_at=bindparam("done_at"),
    )
)


@dataclass(frozen=True, slots=True)
class Received:
    """One update as it came: its id, its JSON text, and why it is unreadable (if it is)."""

    update_id: int
    payload: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    update_id: int
    payload: str
    attempts: int


class InboxStore:
    def __init__(self, database: Database, *, instance: str) -> None:
        self._database = database
        self.instance = instance
        dialect = database.dialect
        self._insert = _INSERT_NEW.get(dialect, insert(INBOX).returning(INBOX.c.update_id))
        # Several instances look for left-over updates at once on PostgreSQL: each takes
        # rows the others have not locked.
        self._skip_locked = dialect == "postgresql"
        self._renew = _RENEW.get(dialect, _RENEW["sqlite"])

    async def receive(
        self, updates: Sequence[Received], *, now: datetime, lease_until: datetime
    ) -> list[Claimed]:
        """Store the updates (one statement; an id already stored is left as it is) and
        claim for this instance those that still wait to be handled. When this returns, the
        updates are durable and may be confirmed to Telegram."""
        if not updates:
            return []

        def work(connection: Connection) -> list[Claimed]:
            # New updates are stored already claimed by this instance (the usual case: one
            # statement); only when some id was there before is the claim decided row by row.
            stored = connection.execute(
                self._insert,
                [
                    {
                        "update_id": u.update_id,
                        "payload": u.payload,
                        "received_at": now,
                        "state": UNREADABLE if u.error else PENDING,
                        "attempts": 0 if u.error else 1,
                        "error": u.error,
                        "claimed_by": None if u.error else self.instance,
                        "lease_until": None if u.error else lease_until,
                        "done_at": None,
                    }
                    for u in updates
                ],
            ).all()
            new = {update_id for (update_id,) in stored}
            claimed = [
                Claimed(u.update_id, u.payload, 1)
                for u in updates
                if u.update_id in new and not u.error
            ]
            stored_before = [u.update_id for u in updates if u.update_id not in new]
            if stored_before:
                taken = self._claim(
                    connection, INBOX.c.update_id.in_(stored_before), now, lease_until
                )
                claimed = sorted([*claimed, *taken], key=lambda c: c.update_id)
            return claimed

        return await self._database.run_each(work)

    async def claim_left_over(
        self, *, now: datetime, lease_until: datetime, limit: int, take_all: bool
    ) -> list[Claimed]:
        """Claim updates left unhandled: never claimed, or whose lease ran out (its instance
        died). `take_all` (one instance only, e.g. at the start on SQLite) takes every
        pending update whatever its lease says."""
        chosen = select(INBOX.c.update_id).where(INBOX.c.state == PENDING)
        if not take_all:
            chosen = chosen.where(
                or_(INBOX.c.claimed_by.is_(None), INBOX.c.lease_until < now),
            )
        chosen = chosen.order_by(INBOX.c.update_id).limit(limit)
        if self._skip_locked:
            chosen = chosen.with_for_update(skip_locked=True)

        def work(connection: Connection) -> list[Claimed]:
            ids = list(connection.execute(chosen).scalars())
            if not ids:
                return []
            return self._claim(
                connection, INBOX.c.update_id.in_(ids), now, lease_until, take_all=True
            )

        return await self._database.run_short(work)

    def _claim(
        self,
        connection: Connection,
        which: object,
        now: datetime,
        lease_until: datetime,
        *,
        take_all: bool = False,
    ) -> list[Claimed]:
        condition = and_(which, INBOX.c.state == PENDING)  # type: ignore[arg-type]
        if not take_all:
            condition = and_(
                condition,
                or_(
                    INBOX.c.claimed_by.is_(None),
                    INBOX.c.claimed_by == self.instance,
                    INBOX.c.lease_until < now,
                ),
            )
        rows = connection.execute(
            update(INBOX)
            .where(condition)
            .values(
                claimed_by=self.instance,
                lease_until=lease_until,
                # A row this instance holds already is the same attempt, not a new one.
                attempts=case(
                    (INBOX.c.claimed_by == self.instance, INBOX.c.attempts),
                    else_=INBOX.c.attempts + 1,
                ),
            )
            .returning(INBOX.c.update_id, INBOX.c.payload, INBOX.c.attempts)
        ).all()
        claimed = [Claimed(r.update_id, r.payload, r.attempts) for r in rows]
        claimed.sort(key=lambda c: c.update_id)
        return claimed

    async def renew(self, *, update_ids: Sequence[int], lease_until: datetime) -> None:
        """Extend this instance's claims on the updates it is still handling."""
        if not update_ids:
            return
        params = {"ids": list(update_ids), "instance": self.instance, "lease": lease_until}

        def work(connection: Connection) -> None:
            connection.execute(self._renew, params)

        await self._database.run_each(work)

    async def finish(
        self, update_id: int, *, now: datetime, error: str | None = None, failed: bool = False
    ) -> None:
        """Handled (`failed`: given up on, with the error kept)."""
        params = {
            "uid": update_id,
            "state": FAILED if failed else DONE,
            "error": error,
            "done_at": now,
        }

        def work(connection: Connection) -> None:
            connection.execute(_FINISH, params)

        await self._database.run_each(work)

    async def release(self, update_id: int, *, error: str | None) -> None:
        """Not handled this time (stopping, or a failure worth another attempt): pending and
        free for the next start or another instance; the claim's attempt does not count."""

        def work(connection: Connection) -> None:
            connection.execute(
                update(INBOX)
                .where(INBOX.c.update_id == update_id, INBOX.c.claimed_by == self.instance)
                .values(
                    error=error,
                    claimed_by=None,
                    lease_until=None,
                    attempts=INBOX.c.attempts - 1,
                )
            )

        await self._database.run_each(work)

    async def mark_unreadable(self, update_id: int, *, error: str, now: datetime) -> None:
        def work(connection: Connection) -> None:
            connection.execute(
                update(INBOX)
                .where(INBOX.c.update_id == update_id)
                .values(state=UNREADABLE, error=error, lease_until=None, done_at=now)
            )

        await self._database.run_each(work)

    async def prune(self, *, handled_before: datetime) -> int:
        """Forget handled updates received before the given moment (kept a while, so an
        update Telegram delivers again is still recognised)."""

        def work(connection: Connection) -> int:
            result = connection.execute(
                delete(INBOX).where(INBOX.c.state == DONE, INBOX.c.received_at < handled_before)
            )
            return int(result.rowcount or 0)

        return await self._database.run_short(work)

    async def counts(self) -> dict[str, int]:
        """How many updates are in each state."""

        def work(connection: Connection) -> dict[str, int]:
            rows = connection.execute(
                select(INBOX.c.state, func.count()).group_by(INBOX.c.state)
            ).all()
            return {str(state): int(count) for state, count in rows}

        return await self._database.run_short(work)
