"""The lookups on every agent's reply and command use an index, not a scan of all tickets.

With 100,000 tickets a scan for "the ticket of this topic" cost about 11 ms per agent reply
(`docs/benchmarks.md`, the load bench with a long history).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, text
from sqlmodel import col

from storage.models import Ticket
from storage.unit_of_work import Database


async def test_the_ticket_of_a_topic_is_found_through_an_index(database: Database) -> None:
    statement = select(col(Ticket.id)).where(col(Ticket.topic_id) == 77)
    compiled = statement.compile(compile_kwargs={"literal_binds": True})

    def plan(connection: Connection) -> str:
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return " | ".join(str(row[-1]) for row in rows)

    shown = await database.run_short(plan)
    assert "USING" in shown and "ix_tickets_topic_id" in shown, shown
