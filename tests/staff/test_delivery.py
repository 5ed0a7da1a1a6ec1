"""The outbox delivery worker on its own: sending, retries, pacing, blocked customers."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot

from bot.domain.clock import FrozenClock
from bot.services.outbox import enqueue_text
from bot.telegram.delivery import DeliveryWorker, Pacer
from storage.delivery_store import DeliveryStore
from storage.outbox_models import OutboxMessage
from storage.unit_of_work import Database
from tests.telegram_fake import FakeTelegram
from tests.texts import project_catalogs

STAFF = -1009999
CUSTOMER = 5551


def _worker(database: Database, clock: FrozenClock, fake: FakeTelegram, **pacing) -> DeliveryWorker:
    bot = Bot("42:TEST", session=fake)
    return DeliveryWorker(
        bot,
        database,
        clock,
        project_catalogs(),
        staff_chat_id=STAFF,
        staff_locale="en",
        pacer=Pacer(**pacing),
    )


async def _enqueue(database: Database, clock: FrozenClock, key: str, chat_id: int) -> None:
    async with database.unit_of_work() as uow:
        await enqueue_text(uow, key=key, chat_id=chat_id, html=f"<b>{key}</b>", now=clock.now())


async def _rows(database: Database) -> dict[str, OutboxMessage]:
    from sqlmodel import select

    async with database.unit_of_work() as uow:
        result = await uow.session.exec(select(OutboxMessage))
        return {row.key: row for row in result.all()}


async def test_a_message_is_sent_once_and_marked(database: Database, clock: FrozenClock) -> None:
    fake = FakeTelegram()
    worker = _worker(database, clock, fake)
    await _enqueue(database, clock, "hello", CUSTOMER)
    await _enqueue(database, clock, "hello", CUSTOMER)  # same key: nothing new

    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert fake.texts_to(CUSTOMER) == ["hello"]
    row = (await _rows(database))["hello"]
    delivered = fake.last_sent(CUSTOMER).message_id
    assert (row.status, row.attempts, row.sent_message_id) == ("sent", 1, delivered)


async def test_429_waits_for_retry_after(database: Database, clock: FrozenClock) -> None:
    fake = FakeTelegram()
    worker = _worker(database, clock, fake)
    fake.fail_next("sendMessage", retry_after=30)
    await _enqueue(database, clock, "later", CUSTOMER)

    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=29))
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.run_once() == 1
    assert fake.texts_to(CUSTOMER) == ["later"]


async def test_network_errors_back_off_and_keep_the_order(
    database: Database, clock: FrozenClock
) -> None:
    fake = FakeTelegram()
    worker = _worker(database, clock, fake, private_interval=timedelta(0))
    fake.fail_next("sendMessage", network=True)
    await _enqueue(database, clock, "first", CUSTOMER)
    await _enqueue(database, clock, "second", CUSTOMER)

    assert await worker.run_once() == 0  # "second" waits behind "first"
    clock.advance(timedelta(seconds=2))
    assert await worker.run_once() == 2
    assert fake.texts_to(CUSTOMER) == ["first", "second"]


async def test_403_marks_the_message_failed_without_retrying(
    database: Database, clock: FrozenClock
) -> None:
    fake = FakeTelegram()
    worker = _worker(database, clock, fake)
    fake.block_user(CUSTOMER)
    await _enqueue(database, clock, "blocked", CUSTOMER)

    assert await worker.run_once() == 0
    clock.advance(timedelta(hours=1))
    assert await worker.run_once() == 1  # the staff group hears that this user cannot be reached
    assert await worker.run_once() == 0
    row = (await _rows(database))["blocked"]
    assert (row.status, row.attempts) == ("failed", 1)
    assert fake.texts_to(CUSTOMER) == []


async def test_group_pacing_queues_beyond_twenty_a_minute(
    database: Database, clock: FrozenClock
) -> None:
    fake = FakeTelegram()
    worker = _worker(database, clock, fake)
    for number in range(25):
        await _enqueue(database, clock, f"g{number}", STAFF)

    assert await worker.run_once() == 20
    clock.advance(timedelta(seconds=59))
    assert await worker.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.run_once() == 5
    assert fake.texts_to(STAFF) == [f"g{number}" for number in range(25)]


async def test_private_chats_get_about_one_message_a_second(
    database: Database, clock: FrozenClock
) -> None:
    fake = FakeTelegram()
    worker = _worker(database, clock, fake)
    await _enqueue(database, clock, "one", CUSTOMER)
    await _enqueue(database, clock, "two", CUSTOMER)
    await _enqueue(database, clock, "other", CUSTOMER + 1)

    assert await worker.run_once() == 2
    clock.advance(timedelta(seconds=1))
    assert await worker.run_once() == 1
    assert fake.texts_to(CUSTOMER) == ["one", "two"]


async def test_a_crash_while_sending_is_retried_after_the_lease(
    database: Database, clock: FrozenClock
) -> None:
    fake = FakeTelegram()
    worker = _worker(database, clock, fake)
    await _enqueue(database, clock, "crash", CUSTOMER)
    claimed = await DeliveryStore(database).claim_due(  # by another worker, which dies
        now=clock.now(),
        limit=1,
        per_chat=1,
        paced=[],
        lease_until=clock.now() + timedelta(minutes=2),
        choose=list,
    )
    assert [row.key for row in claimed] == ["crash"]
    assert await worker.run_once() == 0  # another worker holds it
    clock.advance(timedelta(minutes=2))
    assert await worker.run_once() == 1
    assert fake.texts_to(CUSTOMER) == ["crash"]
