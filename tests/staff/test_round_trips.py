"""What the two busiest updates read: each row once (PostgreSQL: the statements are counted
on the engine, which the embedded SQLite path does not use)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import Update
from sqlalchemy import event

from bot.domain.clock import FrozenClock
from tests.conftest import requires_postgres
from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_desk, open_ticket, ticket

pytestmark = requires_postgres


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock, postgres_url: str) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path, clock, database_url=postgres_url) as running:
        yield running


async def _tables_read(desk: Desk, update: Update) -> Counter[str]:
    """How many times each table is read (the first table of each SELECT) while `update` is
    handled; "UPDATE <table>": how many times each table is updated."""
    reads: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        if words[0] == "SELECT" and "FROM" in words:
            reads[words[words.index("FROM") + 1]] += 1
        elif words[0] == "UPDATE":
            reads[f"UPDATE {words[1]}"] += 1

    engine = desk.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await desk.feed(update)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return reads


async def test_a_first_reply_reads_the_agent_once_and_writes_the_ticket_once(
    desk: Desk,
) -> None:
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    topic = (await ticket(desk, opened.id)).topic_id

    update = desk.updates.group_text(ANNA, STAFF, "On it", thread_id=topic)
    reads = await _tables_read(desk, update)
    await deliver(desk)

    replied = await ticket(desk, opened.id)
    assert (replied.status, replied.assignee_id) == ("in_progress", ANNA.id)
    assert desk.last_text(IVAN) == "💬 Anna Agent:\nOn it"
    assert reads["agents"] == 1
    # The move, the assignment and the first response in one UPDATE.
    assert reads["UPDATE tickets"] == 1


async def test_a_reply_reads_the_ticket_its_customer_and_the_agent_together(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    topic = (await ticket(desk, opened.id)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "On it", thread_id=topic))
    await deliver(desk)
    desk.clock.advance(timedelta(minutes=1))

    update = desk.updates.group_text(ANNA, STAFF, "Found it", thread_id=topic)
    reads = await _tables_read(desk, update)
    await deliver(desk)

    assert desk.last_text(IVAN) == "💬 Anna Agent:\nFound it"
    # The ticket found by its topic and locked, with its customer and the agent.
    assert (reads["tickets"], reads["customers"], reads["agents"]) == (1, 0, 0)
    # The reply stored with the ticket's `updated_at` in one statement.
    assert reads["UPDATE tickets"] == 0
    assert (await ticket(desk, opened.id)).updated_at == desk.clock.now()


async def test_a_customers_message_reads_the_customer_once_and_its_ticket_with_them(
    desk: Desk,
) -> None:
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    topic = (await ticket(desk, opened.id)).topic_id

    reads = await _tables_read(desk, desk.updates.text(IVAN, "Any news?"))
    await deliver(desk)

    assert "Any news?" in desk.fake.texts_to(STAFF, thread_id=topic)
    # The profile look-up, then the open tickets read with their customer in one statement.
    assert (reads["customers"], reads["tickets"]) == (1, 1)
    # The message is stored, the ticket's `updated_at` set and the message before it read
    # (whether this one starts a burst) by one statement; the unique index tells a message
    # stored already, without a look-up.
    assert (reads["ticket_messages"], reads["UPDATE tickets"]) == (0, 0)
    assert (await ticket(desk, opened.id)).updated_at == desk.clock.now()
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-2].startswith("✉️ C-000001 · ")  # header


async def test_a_message_that_comes_again_leaves_the_ticket_as_it_was(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    update = desk.updates.text(IVAN, "Any news?")
    await desk.feed(update)
    await deliver(desk)
    first = await ticket(desk, opened.id)
    copies = len(desk.fake.texts_to(STAFF, thread_id=first.topic_id))

    desk.clock.advance(timedelta(minutes=1))
    await desk.feed(update)  # Telegram delivers it again
    await deliver(desk)

    assert (await ticket(desk, opened.id)).updated_at == first.updated_at
    assert len(desk.fake.texts_to(STAFF, thread_id=first.topic_id)) == copies
