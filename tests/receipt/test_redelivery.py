"""The same update handled twice (Telegram sent it again, or a restart replayed it): one stored
message, one copy in the topic, one reply at the customer, one outbox row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage.models import TicketMessage
from storage.outbox_models import OUTBOX
from tests.harness import Desk
from tests.receipt.conftest import rows_for
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_ticket, ticket


async def _count_rows(desk: Desk, chat_id: int, message_id: int) -> int:
    return await rows_for(desk.database, chat_id, message_id)


async def _outbox_rows_to(desk: Desk, chat_id: int) -> int:
    async with desk.database.engine.connect() as connection:
        result = await connection.execute(
            select(func.count()).select_from(OUTBOX).where(OUTBOX.c.chat_id == chat_id)
        )
        return int(result.scalar_one())


async def test_a_customer_message_delivered_twice_is_stored_and_relayed_once(
    any_desk: Desk,
) -> None:
    desk = any_desk
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    update = desk.updates.text(IVAN, "The courier never came")
    assert update.message is not None

    await desk.feed(update)
    await deliver(desk)
    await desk.feed(update)
    await deliver(desk)

    assert await _count_rows(desk, IVAN.id, update.message.message_id) == 1
    topic = (await ticket(desk, opened.id)).topic_id
    assert desk.fake.texts_to(STAFF, thread_id=topic).count("The courier never came") == 1


async def test_an_agent_reply_delivered_twice_reaches_the_customer_once(any_desk: Desk) -> None:
    desk = any_desk
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    await desk.say(IVAN, "Where is it?")
    await deliver(desk)
    topic = (await ticket(desk, opened.id)).topic_id
    reply = desk.updates.group_text(ANNA, STAFF, "It is on its way", thread_id=topic)
    assert reply.message is not None
    await desk.feed(reply)
    await deliver(desk)
    queued = await _outbox_rows_to(desk, IVAN.id)

    await desk.feed(reply)
    await deliver(desk)

    assert await _count_rows(desk, STAFF, reply.message.message_id) == 1
    assert await _outbox_rows_to(desk, IVAN.id) == queued
    assert desk.texts(IVAN).count("💬 Anna Agent:\nIt is on its way") == 1


async def test_an_agent_reply_delivered_again_after_the_ticket_closed_is_not_refused(
    any_desk: Desk,
) -> None:
    desk = any_desk
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    topic = (await ticket(desk, opened.id)).topic_id
    reply = desk.updates.group_text(ANNA, STAFF, "Refund sent", thread_id=topic)
    await desk.feed(reply)
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/close", thread_id=topic))
    await deliver(desk)
    assert (await ticket(desk, opened.id)).status == "closed"
    shown = desk.fake.texts_to(STAFF, thread_id=topic)

    await desk.feed(reply)
    await deliver(desk)

    # No "this ticket is finished" answer to a reply that was relayed the first time.
    assert desk.fake.texts_to(STAFF, thread_id=topic) == shown
    assert desk.texts(IVAN).count("💬 Anna Agent:\nRefund sent") == 1


async def test_the_database_refuses_a_second_row_for_one_telegram_message(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    now = desk.clock.now()

    def row() -> TicketMessage:
        return TicketMessage(
            ticket_id=opened.id,
            direction="in",
            chat_id=IVAN.id,
            telegram_message_id=77,
            text="hello",
            created_at=now,
        )

    async with desk.database.unit_of_work() as uow:
        await uow.messages.add(message=row())
    with pytest.raises(IntegrityError):
        async with desk.database.unit_of_work() as uow:
            await uow.messages.add(message=row())
