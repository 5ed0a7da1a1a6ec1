"""The inbox table on SQLite and PostgreSQL: stored once, one holder at a time, leases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from bot.domain.clock import FrozenClock
from storage.inbox_store import InboxStore, Received
from storage.unit_of_work import Database
from tests.conftest import open_database, requires_postgres

LEASE = timedelta(seconds=30)


async def test_an_update_is_stored_once_and_held_by_one_instance(
    any_database: Database, clock: FrozenClock
) -> None:
    first = InboxStore(any_database, instance="first")
    second = InboxStore(any_database, instance="second")
    now = clock.now()
    batch = [Received(1, '{"update_id": 1}'), Received(2, "{}", error="cannot be read")]

    claimed = await first.receive(batch, now=now, lease_until=now + LEASE)
    again = await first.receive(batch[:1], now=now, lease_until=now + LEASE)
    elsewhere = await second.receive(batch[:1], now=now, lease_until=now + LEASE)

    assert [(c.update_id, c.payload, c.attempts) for c in claimed] == [(1, '{"update_id": 1}', 1)]
    assert [(c.update_id, c.attempts) for c in again] == [(1, 1)]  # same holder, same attempt
    assert elsewhere == []  # held by the first instance
    assert await first.counts() == {"pending": 1, "unreadable": 1}

    later = now + LEASE + timedelta(seconds=1)  # the first instance died: its lease ran out
    taken = await second.claim_left_over(
        now=later, lease_until=later + LEASE, limit=10, take_all=False
    )
    assert [(c.update_id, c.attempts) for c in taken] == [(1, 2)]
    await second.finish(1, now=later)
    assert await first.counts() == {"done": 1, "unreadable": 1}
    assert await second.prune(handled_before=later + timedelta(days=3)) == 1


async def test_instances_looking_for_left_overs_at_once_take_different_updates(
    any_database: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    dead = InboxStore(any_database, instance="dead")
    await dead.receive(
        [Received(n, "{}") for n in range(1, 41)], now=now, lease_until=now - timedelta(seconds=1)
    )
    stores = [InboxStore(any_database, instance=f"alive-{n}") for n in range(3)]

    taken = await asyncio.gather(
        *(
            store.claim_left_over(now=now, lease_until=now + LEASE, limit=15, take_all=False)
            for store in stores
        )
    )

    ids = [c.update_id for batch in taken for c in batch]
    assert len(ids) == len(set(ids))  # nobody handles an update another one holds
    assert len(ids) == 40


@requires_postgres
async def test_a_batch_of_new_updates_is_stored_and_claimed_in_one_statement(
    postgres_url: str, clock: FrozenClock
) -> None:
    database = await open_database(postgres_url)
    store = InboxStore(database, instance="first")
    await store.receive([Received(1, "{}")], now=clock.now(), lease_until=clock.now() + LEASE)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0])

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        now = clock.now()
        batch = [Received(n, f'{{"update_id": {n}}}') for n in (1, 2, 3, 4)]
        claimed = await store.receive(batch, now=now, lease_until=now + LEASE)
        fresh = await store.receive(batch[1:], now=now, lease_until=now + LEASE)
        assert statements == ["INSERT", "UPDATE", "INSERT", "UPDATE"]
        statements.clear()
        newer = [Received(n, "{}") for n in (5, 6, 7)]
        assert [c.update_id for c in await store.receive(newer, now=now, lease_until=now)] == [
            5,
            6,
            7,
        ]
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
        await database.dispose()
    # Update 1 came again (stored before): claimed again by its holder, same attempt.
    assert [(c.update_id, c.attempts) for c in claimed] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert [c.update_id for c in fresh] == [2, 3, 4]
    assert statements == ["INSERT"]  # all new: stored and claimed by the one insert


async def test_a_renewed_lease_keeps_the_updates_of_a_live_instance(
    any_database: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    live = InboxStore(any_database, instance="live")
    other = InboxStore(any_database, instance="other")
    await live.receive([Received(n, "{}") for n in (1, 2, 3)], now=now, lease_until=now + LEASE)
    await other.receive([Received(4, "{}")], now=now, lease_until=now + LEASE)
    await live.finish(3, now=now)

    # Renewing touches only this instance's updates still being handled.
    await live.renew(update_ids=[1, 2, 3, 4], lease_until=now + 3 * LEASE)

    later = now + 2 * LEASE
    taken = await other.claim_left_over(
        now=later, lease_until=later + LEASE, limit=10, take_all=False
    )
    assert [c.update_id for c in taken] == [4]  # its own, whose lease ran out; 1 and 2 are held
