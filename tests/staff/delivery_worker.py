"""A delivery worker on its own (no desk around it), for the tests of its queue, rounds and
pacing: the worker and a queued text (two instances' shared pacers: `shared_pacers` in
conftest.py)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot

from bot.domain.clock import FrozenClock
from bot.services.outbox import enqueue_text
from bot.telegram.delivery import DeliveryWorker
from bot.telegram.pacing import Pacer
from storage.unit_of_work import Database
from tests.telegram_fake import FakeTelegram
from tests.texts import project_catalogs

STAFF = -1009999
CUSTOMER = 5551


def delivery_worker(
    database: Database,
    clock: FrozenClock,
    fake: FakeTelegram,
    pacer: Pacer | None = None,
    **options: Any,
) -> DeliveryWorker:
    return DeliveryWorker(
        Bot("42:TEST", session=fake),
        database,
        clock,
        project_catalogs(),
        staff_chat_id=STAFF,
        staff_locale="en",
        pacer=pacer or Pacer(),
        **options,
    )


async def queue_text(database: Database, clock: FrozenClock, key: str, chat_id: int) -> None:
    async with database.unit_of_work() as uow:
        await enqueue_text(uow, key=key, chat_id=chat_id, html=key, now=clock.now())
