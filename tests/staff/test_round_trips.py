"""What an agent's first reply reads: each row once (PostgreSQL: the statements are counted
on the engine, which the embedded SQLite path does not use)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot.domain.clock import FrozenClock
from tests.conftest import requires_postgres
from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_desk, open_ticket, ticket

pytestmark = requires_postgres


async def test_a_first_reply_reads_the_agent_once_although_it_also_assigns_them(
    tmp_path: Path, clock: FrozenClock, postgres_url: str
) -> None:
    async with open_desk(tmp_path, clock, database_url=postgres_url) as desk:
        await _first_reply(desk)


async def _first_reply(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    topic = (await ticket(desk, opened.id)).topic_id
    reads: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        if words[0] == "SELECT":
            reads[words[words.index("FROM") + 1]] += 1

    engine = desk.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await desk.feed(desk.updates.group_text(ANNA, STAFF, "On it", thread_id=topic))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    await deliver(desk)

    replied = await ticket(desk, opened.id)
    assert (replied.status, replied.assignee_id) == ("in_progress", ANNA.id)
    assert desk.last_text(IVAN) == "💬 Anna Agent:\nOn it"
    assert reads["agents"] == 1
