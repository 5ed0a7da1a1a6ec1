"""The bot's CPU per statement on PostgreSQL, by how the statement is built and run.

    python -m bench.statement_cost_bench   (TEST_POSTGRES_URL or the local server)

The same look-up (a message by its chat and Telegram id) and the same insert (a new message)
run ten at a time in one unit of work, written four ways: an ORM statement built at each call,
the repository's ORM statement built once with bound parameters, a Core statement built once
(on the session's connection), and `Session.get` of a row by primary key; an ORM `add` and
`flush` against a Core insert built once; and one update on its own, outside a unit of work,
as the delivery worker records a sent row (`Database.run_each`). CPU time
(`time.process_time`) per statement, the lower of two passes, the round trip included.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from itertools import count
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.common import machine
from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.models import Customer, TicketMessage
from storage.staff_ticket_repository import _MESSAGE_BY_TELEGRAM_ID as PREBUILT_ORM
from storage.unit_of_work import Database
from tests.postgres import temporary_database

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
MESSAGES: Any = TicketMessage.__table__  # type: ignore[attr-defined]
PREBUILT_CORE: Any = (
    core_select(MESSAGES)
    .where(
        MESSAGES.c.chat_id == bindparam("chat_id"),
        MESSAGES.c.telegram_message_id == bindparam("telegram_message_id"),
    )
    .order_by(MESSAGES.c.id.desc())
)
INSERT_CORE: Any = insert(MESSAGES).returning(MESSAGES.c.id)
MARK_ONE: Any = (
    update(MESSAGES)
    .where(MESSAGES.c.chat_id == 5, MESSAGES.c.telegram_message_id == 0)
    .values(text=bindparam("text"))
)
PER_UNIT = 10
Step = Callable[[AsyncSession, int], Awaitable[object]]


async def bench() -> None:
    async with temporary_database(ADMIN_URL, prefix="statement_cost") as url:
        database = Database(create_engine(url))
        await upgrade_database(database.engine)
        now = datetime.now(UTC)
        async with database.unit_of_work() as uow:
            customer = Customer(telegram_id=5, first_name="A", created_at=now, updated_at=now)
            uow.session.add(customer)
            await uow.session.flush()
            customer_id = customer.id
            for number in range(50):
                uow.session.add(
                    TicketMessage(
                        customer_id=customer_id,
                        direction="in",
                        author_id=5,
                        content_type="text",
                        text="hi",
                        chat_id=5,
                        telegram_message_id=number,
                        created_at=now,
                    )
                )
        numbers = count(1_000)

        def new_message() -> dict[str, Any]:
            return {
                "ticket_id": None,
                "customer_id": customer_id,
                "direction": "in",
                "author_id": 5,
                "content_type": "text",
                "text": "hi",
                "chat_id": 5,
                "telegram_message_id": next(numbers),
                "created_at": now,
                "visible_to_customer": True,
            }

        async def built_each_time(session: AsyncSession, number: int) -> object:
            statement = (
                select(TicketMessage)
                .where(TicketMessage.chat_id == 5, TicketMessage.telegram_message_id == number)
                .order_by(col(TicketMessage.id).desc())
            )
            return (await session.exec(statement)).first()

        async def built_once_orm(session: AsyncSession, number: int) -> object:
            params = {"chat_id": 5, "telegram_message_id": number}
            return (await session.exec(PREBUILT_ORM, params=params)).first()

        async def built_once_core(session: AsyncSession, number: int) -> object:
            params = {"chat_id": 5, "telegram_message_id": number}
            result = await session.exec(PREBUILT_CORE, params=params)
            return result.first()

        async def session_get(session: AsyncSession, number: int) -> object:
            session.expunge_all()  # a unit of work's first look-up of the row
            return await session.get(Customer, customer_id)

        async def orm_add(session: AsyncSession, number: int) -> object:
            message = TicketMessage(**new_message())
            session.add(message)
            await session.flush()
            return message.id

        async def core_insert(session: AsyncSession, number: int) -> object:
            return (await session.exec(INSERT_CORE, params=new_message())).scalar_one()

        cases: list[tuple[str, Step]] = [
            ("look-up, ORM statement built at each call", built_each_time),
            ("look-up, ORM statement built once", built_once_orm),
            ("look-up, Core statement built once", built_once_core),
            ("`Session.get` by primary key", session_get),
            ("new row, ORM `add` and `flush`", orm_add),
            ("new row, Core insert built once", core_insert),
        ]
        print("| statement | CPU per statement |")
        print("|---|---|")
        for name, step in cases:
            costs = [await _cost(database, step) for _ in range(2)]
            print(f"| {name} | {min(costs):.0f} µs |")
        costs = [await _cost_alone(database) for _ in range(2)]
        print(f"| update of one row on its own (`Database.run_each`) | {min(costs):.0f} µs |")
        await database.dispose()


async def _cost(database: Database, step: Step, units: int = 200) -> float:
    async def unit() -> None:
        async with database.unit_of_work() as uow:
            for number in range(PER_UNIT):
                await step(uow.session, number % 50)

    for _ in range(20):
        await unit()
    started = time.process_time()
    for _ in range(units):
        await unit()
    return (time.process_time() - started) / units / PER_UNIT * 1e6


async def _cost_alone(database: Database, statements: int = 2000) -> float:
    """One statement that stands alone, as a sent outbox row is recorded: outside a
    transaction, on a connection kept ready (`storage/autocommit.py`)."""
    params = {"text": "seen"}

    def work(connection: Connection) -> None:
        connection.execute(MARK_ONE, params)

    for _ in range(100):
        await database.run_each(work)
    started = time.process_time()
    for _ in range(statements):
        await database.run_each(work)
    return (time.process_time() - started) / statements * 1e6


def main() -> int:
    print(f"machine: {machine()}")
    asyncio.run(bench())
    return 0


if __name__ == "__main__":
    sys.exit(main())
