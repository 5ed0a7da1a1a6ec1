"""The overall pace: about 30 messages a second over all chats, shared between instances, and
a reply queued while a broadcast is being sent takes the next free slot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.clock import FrozenClock
from bot.services.outbox import enqueue_text
from bot.telegram.pacing import Pacer, RedisPacer
from storage.outbox_models import OUTBOX
from storage.unit_of_work import Database
from tests.conftest import requires_redis
from tests.staff.delivery_worker import CUSTOMER, delivery_worker
from tests.telegram_fake import FakeTelegram

FIRST_CHAT = 200_000


async def _broadcast(database: Database, clock: FrozenClock, chats: int) -> None:
    now = clock.now()
    rows: list[dict[str, Any]] = [
        {
            "key": f"incident-update:{chat}",
            "chat_id": chat,
            "kind": "incident_update",
            "payload": {"html": f"update for {chat}"},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for chat in range(FIRST_CHAT, FIRST_CHAT + chats)
    ]
    async with database.unit_of_work() as uow:
        await uow.session.exec(OUTBOX.insert(), params=rows)


def _sent(fake: FakeTelegram) -> list[tuple[int, str]]:
    return [(call.params["chat_id"], call.params["text"]) for call in fake.calls_of("sendMessage")]


async def test_a_broadcast_goes_at_thirty_a_second_and_a_reply_takes_the_next_slot(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    worker = delivery_worker(database, clock, fake)
    await _broadcast(database, clock, 100)

    assert await worker.run_once() == 30
    assert await worker.run_once() == 0  # the second is used up: nobody else gets a message
    assert await worker._seconds_to_next() == 1.0  # sleeps until the window frees, no spin

    async with database.unit_of_work() as uow:  # an agent answers while the broadcast runs
        await enqueue_text(uow, key="reply", chat_id=CUSTOMER, html="reply", now=clock.now())
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.run_once() == 30
    assert _sent(fake)[30] == (CUSTOMER, "reply")  # first in the next second

    for _ in range(3):
        clock.advance(timedelta(seconds=1))
        await worker.run_once()
    sent = _sent(fake)
    assert len(sent) == 101
    assert sorted(chat for chat, _ in sent if chat != CUSTOMER) == list(
        range(FIRST_CHAT, FIRST_CHAT + 100)
    )  # every customer once


async def test_without_an_overall_limit_a_round_is_only_bounded_by_its_size(
    database: Database, clock: FrozenClock
) -> None:
    fake = FakeTelegram(clock=clock)
    worker = delivery_worker(database, clock, fake, Pacer(overall_limit=0))
    await _broadcast(database, clock, 100)

    assert await worker.run_once() == 100


@requires_redis
async def test_two_instances_share_the_overall_limit(
    any_database: Database, clock: FrozenClock, shared_pacers: list[RedisPacer]
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    first, second = (delivery_worker(database, clock, fake, pacer) for pacer in shared_pacers)
    await _broadcast(database, clock, 50)

    assert await first.run_once() == 30
    assert await second.run_once() == 0  # its own picture is empty; Redis says no
    clock.advance(timedelta(seconds=1))
    assert await second.run_once() + await first.run_once() == 20
    assert len(_sent(fake)) == 50
