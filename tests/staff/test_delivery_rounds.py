"""The delivery worker's rounds: what wakes it, what makes it go again at once, and chats
sent side by side (and the staff group's tickets)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import event

from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.services.customers import CustomerService, TelegramProfile
from bot.services.intake import ComplaintForm
from bot.services.outbox import enqueue_text
from bot.services.tickets import TicketService
from bot.telegram.delivery import DeliveryWorker, Pacer, stop_worker
from storage.unit_of_work import Database
from tests.conftest import open_database, requires_postgres
from tests.staff.delivery_worker import CUSTOMER, STAFF, delivery_worker, queue_text
from tests.telegram_fake import FakeTelegram

OTHER_CUSTOMER = 5552
GUARD = 10.0  # seconds: only a broken worker ever gets near this


def _worker(database: Database, clock: FrozenClock, fake: FakeTelegram) -> DeliveryWorker:
    # No pacing at all and an idle poll far away: only a wake-up or a full round may start
    # the next round.
    pacer = Pacer(group_limit=0, private_interval=timedelta(0), overall_limit=0)
    return delivery_worker(database, clock, fake, pacer, idle_poll=3600.0)


@asynccontextmanager
async def _running(worker: DeliveryWorker) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        yield
    finally:
        await stop_worker(task, stop)


async def _second_queued_while_the_first_is_sent(
    database: Database,
    clock: FrozenClock,
    fake: FakeTelegram,
    worker: DeliveryWorker,
    when_second_is_sent: Callable[[], None] = lambda: None,
) -> None:
    """The worker runs; "first" is queued and sent, and while Telegram holds it "second" is
    queued (waking the worker). `when_second_is_sent` runs once "second" reaches Telegram."""
    first = fake.hold("sendMessage")
    await queue_text(database, clock, "first", CUSTOMER)
    async with _running(worker):
        worker.notify()
        await asyncio.wait_for(first.called.wait(), GUARD)
        second = fake.hold("sendMessage")
        await queue_text(database, clock, "second", CUSTOMER)
        worker.notify()  # while the round is still sending "first"
        first.answer.set()
        await asyncio.wait_for(second.called.wait(), GUARD)
        when_second_is_sent()
        second.answer.set()


async def test_a_message_queued_during_a_round_goes_out_without_waiting_for_the_poll(
    any_database: Database, clock: FrozenClock
) -> None:
    fake = FakeTelegram(clock=clock)
    worker = _worker(any_database, clock, fake)
    await _second_queued_while_the_first_is_sent(any_database, clock, fake, worker)
    assert fake.texts_to(CUSTOMER) == ["first", "second"]


@requires_postgres
async def test_a_round_woken_while_it_ran_does_not_ask_when_the_next_row_falls_due(
    postgres_url: str, clock: FrozenClock
) -> None:
    """A row queued during a round starts the next round at once: asking the database when
    the next row falls due would only cost a statement. (PostgreSQL: statements are counted
    on the engine, which the embedded SQLite path does not use.)"""
    database = await open_database(postgres_url)
    fake = FakeTelegram(clock=clock)
    worker = _worker(database, clock, fake)
    asked: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "min(outbox.next_attempt_at)" in statement:
            asked.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    asked_before_second: list[int] = []
    try:
        await _second_queued_while_the_first_is_sent(
            database, clock, fake, worker, lambda: asked_before_second.append(len(asked))
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
        await database.dispose()
    assert fake.texts_to(CUSTOMER) == ["first", "second"]
    assert asked_before_second == [0]


@requires_postgres
async def test_the_only_instance_claims_without_the_lock_that_keeps_instances_apart(
    postgres_url: str, clock: FrozenClock
) -> None:
    """No other process claims beside the only instance (storage/instance_lock.py): its
    round reads and claims statement by statement, without the claim lock; one of several
    instances takes the lock. Both deliver the chat's messages in order."""
    database = await open_database(postgres_url)
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        sent.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    locks: dict[bool, int] = {}
    try:
        for only in (True, False):
            fake = FakeTelegram(clock=clock)
            pacer = Pacer(group_limit=0, private_interval=timedelta(0), overall_limit=0)
            worker = delivery_worker(database, clock, fake, pacer, only_claimer=only)
            for number in range(3):
                await queue_text(database, clock, f"{only}-{number}", CUSTOMER)
            sent.clear()
            assert await worker.run_once() == 3
            assert fake.texts_to(CUSTOMER) == [f"{only}-{number}" for number in range(3)]
            locks[only] = sum("pg_advisory_xact_lock" in statement for statement in sent)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        await database.dispose()
    assert locks == {True: 0, False: 1}


async def test_a_chat_with_more_due_than_a_round_takes_gets_the_rest_at_once(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    worker = _worker(database, clock, fake)
    for number in range(45):
        await queue_text(database, clock, f"group-{number}", STAFF)
    for _ in range(44):
        fake.hold("sendMessage").answer.set()
    last = fake.hold("sendMessage")
    async with _running(worker):
        worker.notify()  # one wake-up for all of them
        await asyncio.wait_for(last.called.wait(), GUARD)
        last.answer.set()
    assert fake.texts_to(STAFF) == [f"group-{number}" for number in range(45)]


async def _round_with_two_sends_held(
    worker: DeliveryWorker, fake: FakeTelegram
) -> tuple[list[str], int]:
    """A round whose first two sends Telegram holds: the texts that were with Telegram at
    once, neither answered yet (sorted), and what the round delivered once both were."""
    first, second = fake.hold("sendMessage"), fake.hold("sendMessage")
    sending = asyncio.create_task(worker.run_once())
    await asyncio.wait_for(first.called.wait(), GUARD)
    await asyncio.wait_for(second.called.wait(), GUARD)
    in_flight = sorted(call.params["text"] for call in fake.calls_of("sendMessage"))
    first.answer.set()
    second.answer.set()
    return in_flight, await sending


async def test_a_slow_chat_does_not_hold_up_another_chat_in_the_same_round(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    worker = _worker(database, clock, fake)
    await queue_text(database, clock, "slow", CUSTOMER)
    await queue_text(database, clock, "after slow", CUSTOMER)
    await queue_text(database, clock, "other", OTHER_CUSTOMER)
    in_flight, delivered = await _round_with_two_sends_held(worker, fake)
    assert in_flight == ["other", "slow"]  # "after slow" waits for its chat's first
    assert delivered == 3
    assert fake.texts_to(CUSTOMER) == ["slow", "after slow"]
    assert fake.texts_to(OTHER_CUSTOMER) == ["other"]


async def _two_tickets(database: Database, clock: FrozenClock) -> tuple[int, int]:
    customers = CustomerService(database, clock, default_locale="en")
    tickets = TicketService(database, clock, SlaPolicy())
    ids: list[int] = []
    for user in (CUSTOMER, OTHER_CUSTOMER):
        customer = await customers.register(TelegramProfile(user, f"C{user}", None, None, "en"))
        assert customer.id is not None
        form = ComplaintForm(category="delivery", description="late", incident_date=None)
        ticket = await tickets.open_complaint(customer_id=customer.id, form=form)
        assert ticket.id is not None
        ids.append(ticket.id)
    return ids[0], ids[1]


async def test_the_staff_groups_tickets_are_sent_to_side_by_side(
    any_database: Database, clock: FrozenClock
) -> None:
    database = any_database
    fake = FakeTelegram(clock=clock)
    worker = _worker(database, clock, fake)
    slow_ticket, other_ticket = await _two_tickets(database, clock)
    async with database.unit_of_work() as uow:
        for text, ticket_id in (("slow", slow_ticket), ("after slow", slow_ticket)):
            await enqueue_text(
                uow, key=text, chat_id=STAFF, html=text, now=clock.now(), ticket_id=ticket_id
            )
        await enqueue_text(
            uow, key="other", chat_id=STAFF, html="other", now=clock.now(), ticket_id=other_ticket
        )
    in_flight, delivered = await _round_with_two_sends_held(worker, fake)
    assert in_flight == ["other", "slow"]  # "after slow" waits for its ticket's first
    assert delivered == 3
    texts = fake.texts_to(STAFF)
    assert texts.index("slow") < texts.index("after slow")
