"""The server database's pool keeps a connection for everything a process runs at once: a
burst of concurrent transactions as wide as the handlers' and the delivery's concurrency
opens its connections once, and the next bursts reuse them (no new server process per
transaction)."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, text

from bot.telegram.delivery.worker import CHATS_AT_ONCE
from bot.telegram.inbox import HANDLED_AT_ONCE
from storage.db import create_engine

AT_ONCE = HANDLED_AT_ONCE + CHATS_AT_ONCE


async def test_bursts_as_wide_as_the_process_reuse_their_connections(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda _connection, _record: opened.append(1))

    async def burst() -> None:
        together = asyncio.Barrier(AT_ONCE)

        async def transaction() -> None:
            async with engine.begin() as connection:
                await connection.execute(text("SELECT 1"))
                await together.wait()  # each holds its connection until all hold one

        await asyncio.wait_for(asyncio.gather(*(transaction() for _ in range(AT_ONCE))), 20)

    try:
        await burst()
        first = len(opened)
        await burst()
        await burst()
    finally:
        await engine.dispose()

    assert first == AT_ONCE
    assert len(opened) == AT_ONCE  # the later bursts opened none
