"""The outbox queue: per-chat fetching with lanes, per-chat order, leases, shared pacing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.domain.clock import FrozenClock
from bot.services.outbox import enqueue_copy, enqueue_notice, enqueue_text
from bot.telegram.delivery import SENDERS
from bot.telegram.pacing import Pacer, RedisPacer
from storage.outbox_models import LANES, OUTBOX
from storage.unit_of_work import Database
from tests.conftest import requires_redis
from tests.staff.delivery_worker import CUSTOMER, STAFF, delivery_worker, queue_text
from tests.telegram_fake import FakeTelegram


async def test_a_busy_staff_group_does_not_delay_a_customers_reply(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    worker = delivery_worker(database, clock, fake)
    for number in range(250):
        await queue_text(database, clock, f"group-{number}", STAFF)
    await queue_text(database, clock, "reply", CUSTOMER)

    await worker.run_once()

    assert fake.texts_to(CUSTOMER) == ["reply"]
    assert len(fake.texts_to(STAFF)) == 20  # the group's pace, not the round's size


async def test_a_reply_goes_before_a_ten_thousand_message_broadcast(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    worker = delivery_worker(database, clock, fake)
    now = clock.now()
    broadcast: list[dict[str, Any]] = [
        {
            "key": f"incident:{chat}",
            "chat_id": chat,
            "kind": "incident_update",
            "payload": {"html": "Service restored"},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for chat in range(100_000, 110_000)
    ]
    async with database.unit_of_work() as uow:
        await uow.session.exec(OUTBOX.insert(), params=broadcast)
    await queue_text(database, clock, "reply", CUSTOMER)

    await worker.run_once()

    first = fake.calls_of("sendMessage")[0]
    assert (first.params["chat_id"], first.params["text"]) == (CUSTOMER, "reply")
    assert fake.texts_to(100_000) == ["Service restored"]  # broadcasts do go, after it


def test_every_kind_has_a_lane_and_a_sender() -> None:
    assert set(SENDERS) == set(LANES)


async def test_relayed_messages_keep_the_order_they_were_sent_in(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    for message_id in (1, 2, 3):
        fake.record_incoming(
            {
                "message_id": message_id,
                "date": 0,
                "chat": {"id": CUSTOMER, "type": "private", "first_name": "C"},
                "text": f"m{message_id}",
            }
        )
    worker = delivery_worker(database, clock, fake)
    # Two instances stored them: the outbox got the second and third before the first.
    async with database.unit_of_work() as uow:
        for message_id in (2, 3, 1):
            await enqueue_copy(
                uow,
                key=f"relay:{message_id}",
                chat_id=STAFF,
                from_chat_id=CUSTOMER,
                message_id=message_id,
                now=clock.now(),
                link={"source_chat_id": CUSTOMER, "source_message_id": message_id},
            )

    await worker.run_once()

    copied = [call.params["message_id"] for call in fake.calls_of("copyMessage")]
    assert copied == [1, 2, 3]
    assert fake.texts_to(STAFF) == ["m1", "m2", "m3"]


async def test_a_killed_senders_messages_are_taken_over_after_a_short_lease(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    held = fake.hold("sendMessage")  # never answered: the process dies inside the call
    await queue_text(database, clock, "reply", CUSTOMER)
    killed = asyncio.create_task(delivery_worker(database, clock, fake).run_once())
    await held.called.wait()
    killed.cancel()

    restarted = delivery_worker(database, clock, FakeTelegram(clock=clock))
    assert await restarted.run_once() == 0  # the lease still holds
    clock.advance(timedelta(seconds=30))
    assert await restarted.run_once() == 1


async def test_a_slow_send_keeps_its_lease(any_database: Database, clock: FrozenClock) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    held = fake.hold("sendMessage")
    slow = delivery_worker(database, clock, fake)
    await queue_text(database, clock, "reply", CUSTOMER)
    sending = asyncio.create_task(slow.run_once())
    await held.called.wait()

    other_fake = FakeTelegram(clock=clock)
    other = delivery_worker(database, clock, other_fake)
    for _ in range(6):  # 2.5 minutes of a send that does not end, the lease renewed meanwhile
        clock.advance(timedelta(seconds=25))
        await slow.renew_leases()
        assert await other.run_once() == 0
    held.answer.set()
    assert await sending == 1
    assert fake.texts_to(CUSTOMER) == ["reply"]
    assert other_fake.calls_of("sendMessage") == []


def test_local_pacing_remembers_a_bounded_number_of_chats(clock: FrozenClock) -> None:
    pacer = Pacer(max_chats=3)
    for chat in range(1, 6):
        pacer.record(chat, clock.now())
    assert pacer.next_slot(5, clock.now()) == clock.now() + timedelta(seconds=1)
    assert len(pacer._windows) == 3


@requires_redis
async def test_two_instances_share_the_staff_groups_pace(
    any_database: Database, clock: FrozenClock, shared_pacers: list[RedisPacer]
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    first, second = (delivery_worker(database, clock, fake, pacer) for pacer in shared_pacers)
    for number in range(30):
        await queue_text(database, clock, f"group-{number}", STAFF)

    sent = await first.run_once() + await second.run_once()
    clock.advance(timedelta(seconds=30))
    sent += await second.run_once() + await first.run_once()
    assert sent == 20  # one minute, two instances: still 20

    clock.advance(timedelta(seconds=30))
    sent += await second.run_once() + await first.run_once()
    assert sent == 30
    assert fake.texts_to(STAFF) == [f"group-{number}" for number in range(30)]


@requires_redis
async def test_two_instances_share_a_private_chats_pace(
    database: Database, clock: FrozenClock, shared_pacers: list[RedisPacer]
) -> None:
    fake = FakeTelegram(clock=clock)
    first, second = (delivery_worker(database, clock, fake, pacer) for pacer in shared_pacers)
    await queue_text(database, clock, "one", CUSTOMER)
    await queue_text(database, clock, "two", CUSTOMER)

    assert await first.run_once() == 1
    assert await second.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await second.run_once() == 1
    assert fake.texts_to(CUSTOMER) == ["one", "two"]


async def test_a_supervisor_who_never_started_the_bot_is_named_once_in_the_group(
    database: Database, clock: FrozenClock
) -> None:
    supervisor = 7007
    fake = FakeTelegram(clock=clock)
    fake.never_started(supervisor)
    worker = delivery_worker(database, clock, fake)
    await queue_text(database, clock, "escalation-1", supervisor)
    await queue_text(database, clock, "escalation-2", supervisor)

    for _ in range(3):
        await worker.run_once()
        clock.advance(timedelta(seconds=1))

    (notice,) = fake.texts_to(STAFF, thread_id=None)
    assert "7007" in notice and "/start" in notice
    assert fake.texts_to(supervisor) == []


async def test_in_the_staff_group_the_conversation_goes_before_notices(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    worker = delivery_worker(database, clock, fake, Pacer(group_limit=1))
    async with database.unit_of_work() as uow:
        await enqueue_notice(uow, key="notice", chat_id=STAFF, html="notice", now=clock.now())
        await enqueue_text(uow, key="relayed", chat_id=STAFF, html="relayed", now=clock.now())

    await worker.run_once()
    assert fake.texts_to(STAFF) == ["relayed"]
    clock.advance(timedelta(minutes=1))
    await worker.run_once()
    assert fake.texts_to(STAFF) == ["relayed", "notice"]


async def test_two_workers_at_once_send_a_chats_messages_once_and_in_order(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    for message_id in range(1, 7):
        fake.record_incoming(
            {
                "message_id": message_id,
                "date": 0,
                "chat": {"id": CUSTOMER, "type": "private", "first_name": "C"},
                "text": f"m{message_id}",
            }
        )
    async with database.unit_of_work() as uow:
        for message_id in (2, 1, 3, 5, 4, 6):
            await enqueue_copy(
                uow,
                key=f"relay:{message_id}",
                chat_id=STAFF,
                from_chat_id=CUSTOMER,
                message_id=message_id,
                now=clock.now(),
                link={"source_chat_id": CUSTOMER, "source_message_id": message_id},
            )
    workers = [delivery_worker(database, clock, fake) for _ in range(2)]

    sent = await asyncio.gather(*(worker.run_once() for worker in workers))

    assert sorted(sent) == [0, 6]  # the chat was held by the first worker's claim
    assert fake.texts_to(STAFF) == [f"m{number}" for number in range(1, 7)]


async def test_a_paced_chat_with_messages_waiting_does_not_make_the_worker_spin(
    database: Database, clock: FrozenClock
) -> None:
    fake = FakeTelegram(clock=clock)
    worker = delivery_worker(database, clock, fake, Pacer(group_limit=20))
    for number in range(25):
        await queue_text(database, clock, f"group-{number}", STAFF)

    assert await worker.run_once() == 20
    # Five are due now but the group is paced for a minute: sleep (up to the idle poll).
    assert await worker._seconds_to_next() == 5.0
    clock.advance(timedelta(seconds=58))
    assert await worker._seconds_to_next() == 2.0
