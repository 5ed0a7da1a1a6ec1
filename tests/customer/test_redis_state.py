"""With REDIS_URL the conversation state lives in Redis: a form survives a restart there too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.domain.clock import FrozenClock
from storage.models import Ticket
from tests.conftest import REDIS_URL, requires_redis
from tests.harness import Desk, running_desk
from tests.telegram_fake import TelegramUser

pytestmark = requires_redis

ANNA = TelegramUser(4001, "Anna", language_code="en")


@pytest.fixture
async def redis_desk(tmp_path: Path, clock: FrozenClock, redis_prefix: str) -> AsyncIterator[Desk]:
    from redis.asyncio import Redis

    async with running_desk(
        tmp_path, clock, redis_url=REDIS_URL, redis_prefix=redis_prefix
    ) as desk:
        yield desk
    client = Redis.from_url(REDIS_URL or "")
    try:
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_a_half_filled_form_survives_a_restart_with_redis(
    redis_desk: Desk, redis_prefix: str
) -> None:
    from redis.asyncio import Redis

    desk = redis_desk
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Delivery")
    await desk.say(ANNA, "12345678")
    client = Redis.from_url(REDIS_URL or "")
    try:
        stored = [key async for key in client.scan_iter(match=f"{redis_prefix}:*")]
    finally:
        await client.aclose()
    assert stored, "the form state is kept in Redis under the run's own prefix"
    await desk.app.dispatcher.storage.close()
    desk.restart()
    await desk.say(ANNA, "The courier never came to my door")
    await desk.press(ANNA, "Today")
    await desk.press(ANNA, "Skip")
    await desk.say(ANNA, "Skip")
    await desk.press(ANNA, "✅ Submit")
    async with desk.database.unit_of_work() as uow:
        ticket = (await uow.session.exec(select(Ticket))).one()
    assert ticket.fields == {"order_number": "12345678"}
    assert ticket.description == "The courier never came to my door"
