"""Concurrent changes to one ticket on PostgreSQL, where aiogram handles updates concurrently.

Each test holds the ticket's row from a third connection until both contenders are waiting on
PostgreSQL, then lets go: without a row lock both would have read the same stale ticket.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from bot.domain.clock import FrozenClock
from storage.models import TicketEvent
from tests.conftest import requires_postgres, temporary_postgres_database
from tests.harness import Desk
from tests.sla.desk_helpers import runner
from tests.staff.conftest import ANNA, BORIS, IVAN, STAFF, deliver, open_desk, open_ticket, ticket

pytestmark = requires_postgres


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    async with (
        temporary_postgres_database() as url,
        open_desk(tmp_path, clock, database_url=url, auto_close_days=7) as running,
    ):
        yield running


@asynccontextmanager
async def row_held(desk: Desk, ticket_id: int) -> AsyncIterator[None]:
    """Another transaction holds the ticket's row while the block runs."""
    async with desk.database.engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(
            text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"), {"id": ticket_id}
        )
        try:
            yield
        finally:
            await transaction.rollback()


async def race(desk: Desk, ticket_id: int, *contenders: Coroutine[Any, Any, Any]) -> list[Any]:
    """Start the contenders while the ticket's row is held, wait until each one is waiting
    for a lock in PostgreSQL, then release the row and let them finish."""
    async with row_held(desk, ticket_id):
        tasks = [asyncio.create_task(contender) for contender in contenders]
        async with desk.database.engine.connect() as probe:
            for _ in range(10_000):
                waiting = await probe.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                if waiting == len(tasks) or any(task.done() for task in tasks):
                    break
        assert not any(task.done() for task in tasks), "a contender did not wait for the row"
    return await asyncio.gather(*tasks)


async def status_events(desk: Desk, ticket_id: int) -> list[tuple[str | None, str | None]]:
    async with desk.database.unit_of_work() as uow:
        rows = await uow.session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "status")
            .order_by(col(TicketEvent.id))
        )
        return [(event.from_status, event.to_status) for event in rows.all()]


def assert_chained(moves: list[tuple[str | None, str | None]]) -> None:
    """Every move starts from the status the one before it ended in (none from a stale one)."""
    for before, after in itertools.pairwise(moves):
        assert after[0] == before[1], moves


async def test_two_agents_pressing_take_together_one_wins(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    card = desk.fake.message(STAFF, (await ticket(desk, tid)).card_message_id or 0)
    assert card is not None
    take = desk.fake.button_data(card, "🙋 Взять")

    await race(
        desk,
        tid,
        desk.feed(desk.updates.callback(ANNA, take, message=card)),
        desk.feed(desk.updates.callback(BORIS, take, message=card)),
    )

    taken = await ticket(desk, tid)
    winner, loser = (ANNA, BORIS) if taken.assignee_id == ANNA.id else (BORIS, ANNA)
    assert taken.status == "in_progress" and taken.assignee_id == winner.id
    answers = {
        call.params["callback_query_id"]: call.params
        for call in desk.fake.calls_of("answerCallbackQuery")
    }
    told = sorted((a.get("text"), bool(a.get("show_alert"))) for a in answers.values())
    name = f"{winner.first_name} {winner.last_name}"
    assert told == sorted(
        [
            ("Готово", False),
            (
                f"C-000001 уже взял(а) в работу {name}. "
                "Чтобы забрать обращение себе, используйте /assign.",
                True,
            ),
        ]
    )
    assert await status_events(desk, tid) == [(None, "new"), ("new", "in_progress")]
    await deliver(desk)
    assert desk.texts(IVAN).count(f"👋 {name} is now handling your ticket C-000001.") == 1
    assert not any(f"{loser.first_name} {loser.last_name} is now" in t for t in desk.texts(IVAN))


async def test_an_agents_move_and_the_auto_close_sweep_never_move_from_a_stale_status(
    desk: Desk,
) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    topic = (await ticket(desk, tid)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=topic))
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/resolve refund Done", thread_id=topic))
    desk.clock.advance(timedelta(days=8))
    sweeps = runner(desk)

    await race(
        desk,
        tid,
        desk.feed(desk.updates.group_text(ANNA, STAFF, "/reopen", thread_id=topic)),
        sweeps.sla.auto_close.run(desk.clock.now()),
    )

    moves = await status_events(desk, tid)
    assert moves[:3] == [(None, "new"), ("new", "in_progress"), ("in_progress", "resolved")]
    assert_chained(moves)
    assert moves[-1][1] == (await ticket(desk, tid)).status == "reopened"


async def test_the_customers_answer_and_an_agents_close_never_move_from_a_stale_status(
    desk: Desk,
) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    topic = (await ticket(desk, tid)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=topic))
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/status waiting", thread_id=topic))

    await race(
        desk,
        tid,
        desk.feed(desk.updates.text(IVAN, "Here is the order number 5555")),
        desk.feed(desk.updates.group_text(ANNA, STAFF, "/close", thread_id=topic)),
    )

    moves = await status_events(desk, tid)
    assert moves[:3] == [(None, "new"), ("new", "in_progress"), ("in_progress", "waiting_customer")]
    assert_chained(moves)
    assert moves[-1][1] == (await ticket(desk, tid)).status
    async with desk.database.unit_of_work() as uow:
        stored = [m.text for m in await uow.messages.for_ticket(ticket_id=tid)]
    assert "Here is the order number 5555" in stored


@pytest.mark.process
async def test_two_processes_taking_one_ticket_one_wins(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    url = desk.database.engine.url.render_as_string(hide_password=False)
    contenders = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.staff.take_contender",
            url,
            str(tid),
            str(agent.id),
            f"{agent.first_name} {agent.last_name}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for agent in (ANNA, BORIS)
    ]
    try:
        for process in contenders:
            assert process.stdout is not None
            assert (await process.stdout.readline()).strip() == b"ready"

        async def go(process: asyncio.subprocess.Process) -> dict[str, str]:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()
            out, _ = await process.communicate()
            return dict(json.loads(out.decode().strip().splitlines()[-1]))

        told = await race(desk, tid, *(go(process) for process in contenders))
    finally:
        for process in contenders:
            if process.returncode is None:
                process.kill()
                await process.wait()

    taken = await ticket(desk, tid)
    assert taken.status == "in_progress" and taken.assignee_id in (ANNA.id, BORIS.id)
    winner = "Anna Agent" if taken.assignee_id == ANNA.id else "Boris Second"
    assert sorted(told, key=len) == [
        {"taken": True},
        {"refused": "desk.error.taken_by", "number": "C-000001", "agent": winner},
    ]
    assert await status_events(desk, tid) == [(None, "new"), ("new", "in_progress")]
