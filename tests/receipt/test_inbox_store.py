"""The inbox table on SQLite and PostgreSQL: stored once, one holder at a time, leases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.clock import FrozenClock
from storage.inbox_store import InboxStore, Received
from storage.unit_of_work import Database

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
