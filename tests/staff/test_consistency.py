"""Ticket consistency as staff and customers see it: one card edit per action, replies in the
right ticket, topics made (and re-made) by the delivery worker, forms filed once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod
from sqlmodel import col, select

from bot.services.intake import ComplaintForm
from bot.telegram.callbacks import TicketsCallback
from bot.telegram.staff.access import StaffDirectory
from storage.fsm_store import fsm_store_for
from storage.models import FsmRecord, Ticket
from storage.outbox_models import OutboxMessage
from tests.customer.test_complaint_form import fill_delivery_form_en
from tests.harness import Desk
from tests.staff.conftest import (
    ANNA,
    BORIS,
    IVAN,
    OUTSIDER,
    STAFF,
    deliver,
    next_attempt_at,
    open_ticket,
    start,
    ticket,
    topic_texts,
)


class Held:
    """A Bot API method held "on the wire": `entered` is set when a call of it is made, and
    it is answered once `release` is set."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()


def over_a_network(desk: Desk, *, hold: dict[str, Held] | None = None) -> None:
    """Every Bot API call lets other tasks run while it is "on the wire", as over a real
    network; a method named in `hold` waits there until released."""
    original = desk.fake.make_request
    holds = hold or {}

    async def make_request(
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        await asyncio.sleep(0)
        held = holds.get(method.__api_method__)
        if held is not None:
            held.entered.set()
            await held.release.wait()
        return await original(bot, method, timeout)

    desk.fake.make_request = make_request  # type: ignore[method-assign]


async def drive_worker(desk: Desk, until: asyncio.Task[Any]) -> None:
    """The delivery worker, running next to the handlers as in production, until `until` is
    done and the outbox is empty (the frozen clock is moved past pacing pauses)."""
    staff = desk.app.staff
    assert staff is not None
    while True:
        await staff.delivery.run_once()
        await asyncio.sleep(0)
        if not until.done():
            continue
        due = await next_attempt_at(desk.database)
        if due is None:
            return
        if due > desk.clock.now():
            desk.clock.advance(due - desk.clock.now())


def _calls(desk: Desk) -> list[tuple[str, Any, Any, Any]]:
    return sorted(
        (call.name, call.params.get("chat_id"), call.params.get("message_thread_id"), call.ok)
        for call in desk.fake.calls
    )


async def test_a_take_edits_the_card_once_and_renames_the_topic_once(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    current = await ticket(desk, opened.id or 0)
    topic, card = current.topic_id, current.card_message_id
    desk.fake.clear()
    over_a_network(desk)

    handler = asyncio.create_task(
        desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=topic))
    )
    await asyncio.gather(handler, drive_worker(desk, handler))

    assert _calls(desk) == sorted(
        [
            ("getChatAdministrators", STAFF, None, True),
            ("sendMessage", IVAN.id, None, True),  # "Anna Agent is now handling your ticket"
            ("sendMessage", STAFF, topic, True),  # "taken by Anna" in the topic
            ("editMessageText", STAFF, None, True),  # the card, once
            ("editForumTopic", STAFF, topic, True),  # the topic's name, once
        ]
    )
    edit = desk.fake.calls_of("editMessageText")[0]
    assert edit.params["message_id"] == card
    assert "Anna Agent" in (desk.fake.message(STAFF, card or 0).text or "")  # type: ignore[union-attr]
    assert desk.fake.topics(STAFF)[topic or 0].startswith("🔧 C-000001")
    assert desk.last_text(IVAN) == "👋 Anna Agent is now handling your ticket C-000001."


async def test_a_refresh_that_changes_nothing_makes_no_call_even_in_another_process(
    desk: Desk,
) -> None:
    opened = await open_ticket(desk, IVAN)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=topic))
    await deliver(desk)
    assert desk.fake.topics(STAFF)[topic or 0].startswith("🔧 C-000001")

    desk.restart()  # another process (or instance): it remembers nothing in memory
    staff = desk.app.staff
    assert staff is not None and staff.threads is not None
    desk.fake.clear()
    await staff.desk.request_card_refresh(opened.id or 0)
    await deliver(desk)
    assert desk.fake.calls_of("editMessageText", "editForumTopic") == []

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/priority urgent", thread_id=topic))
    await deliver(desk)
    assert [c.name for c in desk.fake.calls_of("editMessageText", "editForumTopic")] == [
        "editMessageText"  # the priority is on the card, not in the topic's name
    ]


async def test_a_reply_to_an_agents_message_goes_to_that_ticket(desk: Desk) -> None:
    first = await open_ticket(desk, IVAN, description="The parcel did not arrive")
    second = await open_ticket(desk, IVAN, description="I was charged twice")
    a = await ticket(desk, first.id or 0)
    b = await ticket(desk, second.id or 0)
    asked = desk.updates.group_text(ANNA, STAFF, "Which address?", thread_id=a.topic_id)
    await desk.feed(asked)
    await deliver(desk)
    question = desk.fake.last_sent(IVAN.id)
    assert question.text == "💬 Anna Agent:\nWhich address?"

    # The customer chose B ("Add details"), then answers A's question with Telegram's reply.
    anchor = desk.fake.last_sent(IVAN.id).message_id
    await desk.feed(
        desk.updates.callback(
            IVAN,
            TicketsCallback(action="add", ticket_id=b.id or 0).pack(),
            chat_id=IVAN.id,
            message_id=anchor,
        )
    )
    assert desk.last_text(IVAN).startswith("Send the details or files for C-000002.")
    await desk.feed(
        desk.updates.text(IVAN, "Baker Street 221b", reply_to_message_id=question.message_id)
    )
    # And once more without the "Add details" mode (B is still the current ticket).
    await desk.press(IVAN, "✅ Done")
    await desk.feed(desk.updates.text(IVAN, "Flat 2", reply_to_message_id=question.message_id))
    await deliver(desk)

    assert "Baker Street 221b" in topic_texts(desk, a.topic_id)
    assert "Flat 2" in topic_texts(desk, a.topic_id)
    assert "Baker Street 221b" not in topic_texts(desk, b.topic_id)
    assert "Flat 2" not in topic_texts(desk, b.topic_id)
    relayed = desk.fake.sent_to(STAFF, thread_id=a.topic_id)[-1]
    assert asked.message is not None  # the relay answers Anna's question in the topic
    assert relayed.params["reply_parameters"]["message_id"] == asked.message.message_id
    async with desk.database.unit_of_work() as uow:
        in_a = [m.text for m in await uow.messages.for_ticket(ticket_id=a.id or 0)]
        in_b = [m.text for m in await uow.messages.for_ticket(ticket_id=b.id or 0)]
    assert "Baker Street 221b" in in_a and "Flat 2" in in_a
    assert "Baker Street 221b" not in in_b and "Flat 2" not in in_b


async def test_a_reply_to_the_bots_notice_about_a_ticket_goes_to_that_ticket(desk: Desk) -> None:
    first = await open_ticket(desk, IVAN, description="The parcel did not arrive")
    second = await open_ticket(desk, IVAN, description="I was charged twice")
    a = await ticket(desk, first.id or 0)
    b = await ticket(desk, second.id or 0)
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=a.topic_id))
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/status waiting", thread_id=a.topic_id))
    await deliver(desk)
    notice = desk.fake.last_sent(IVAN.id)
    assert (notice.text or "").startswith("⏳ Ticket C-000001: we are waiting for your answer")

    # B is the customer's current ticket (the newest); the reply answers A's question.
    await desk.feed(desk.updates.text(IVAN, "It was 5 May", reply_to_message_id=notice.message_id))
    await deliver(desk)
    assert "It was 5 May" in topic_texts(desk, a.topic_id)
    assert "It was 5 May" not in topic_texts(desk, b.topic_id)
    assert (await ticket(desk, a.id or 0)).status == "in_progress"  # the answer moved it back


async def test_messages_right_after_a_topic_was_deleted_all_reach_the_new_topic(
    desk: Desk,
) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    await desk.say(IVAN, "hello")
    await deliver(desk)
    old = (await ticket(desk, tid)).topic_id or 0
    desk.fake.delete_topic(STAFF, old)

    # Making the new topic takes a while; meanwhile the customer goes on writing.
    creation = Held()
    over_a_network(desk, hold={"createForumTopic": creation})
    await desk.say(IVAN, "one")
    staff = desk.app.staff
    assert staff is not None
    worker = asyncio.create_task(staff.delivery.run_once())
    await creation.entered.wait()
    await desk.say(IVAN, "two")
    await desk.say(IVAN, "three")
    creation.release.set()
    await worker
    await deliver(desk)

    new = (await ticket(desk, tid)).topic_id
    assert new is not None and new != old
    texts = topic_texts(desk, new)
    assert texts[0].startswith("🆕 C-000001")  # the card
    assert [t for t in texts if t in ("one", "two", "three")] == ["one", "two", "three"]
    async with desk.database.unit_of_work() as uow:
        failed = (
            await uow.session.exec(
                select(OutboxMessage).where(col(OutboxMessage.status) == "failed")
            )
        ).all()
    assert failed == []


async def test_a_failed_topic_creation_is_retried_by_the_worker(desk: Desk) -> None:
    desk.fake.fail_next("createForumTopic", error_code=500)
    await fill_delivery_form_en(desk, IVAN)
    await desk.press(IVAN, "✅ Submit")
    assert desk.last_text(IVAN).startswith("✅ Your complaint is registered.")
    assert desk.fake.calls_of("createForumTopic") == []  # not in the customer's path

    await deliver(desk)
    async with desk.database.unit_of_work() as uow:
        stored = (await uow.session.exec(select(Ticket))).one()
    assert [c.ok for c in desk.fake.calls_of("createForumTopic")] == [False, True]
    assert stored.topic_id is not None
    assert topic_texts(desk, stored.topic_id)[0].startswith("🆕 C-000001")


async def test_a_crash_before_the_form_was_cleared_files_the_complaint_once(desk: Desk) -> None:
    await fill_delivery_form_en(desk, IVAN)
    async with desk.database.unit_of_work() as uow:
        saved = [
            (r.key, r.state, dict(r.data)) for r in (await uow.session.exec(select(FsmRecord)))
        ]
    await desk.press(IVAN, "✅ Submit")
    registered = desk.last_text(IVAN)
    assert registered.startswith("✅ Your complaint is registered.\n\nNumber: C-000001")

    # The process died after the ticket was committed, before the cleared form was written.
    await fsm_store_for(desk.database).save(
        {key: (state, data) for key, state, data in saved}, now=desk.clock.now()
    )
    desk.restart()
    await desk.press(IVAN, "✅ Submit")

    assert desk.last_text(IVAN).startswith("✅ Your complaint is registered.\n\nNumber: C-000001")
    async with desk.database.unit_of_work() as uow:
        tickets = (await uow.session.exec(select(Ticket))).all()
    assert [t.number for t in tickets] == ["C-000001"]


async def test_the_admin_list_is_read_once_when_it_expires_and_kept_when_telegram_fails(
    desk: Desk,
) -> None:
    directory = StaffDirectory(
        desk.app.bot, desk.clock, chat_id=STAFF, extra_ids=[], ttl=timedelta(minutes=5)
    )
    over_a_network(desk)
    answers = await asyncio.gather(*(directory.is_staff(ANNA.id) for _ in range(20)))
    assert all(answers)
    assert len(desk.fake.calls_of("getChatAdministrators")) == 1

    desk.clock.advance(timedelta(minutes=6))
    desk.fake.fail_next("getChatAdministrators", error_code=500)
    answers = await asyncio.gather(
        *(directory.is_staff(user) for user in (ANNA.id, BORIS.id, OUTSIDER.id) * 5)
    )
    assert answers == [True, True, False] * 5  # the last known list stands
    assert len(desk.fake.calls_of("getChatAdministrators")) == 2  # one more try, not fifteen

    desk.clock.advance(timedelta(seconds=31))
    desk.fake.set_admins(STAFF, [ANNA.id])
    assert not await directory.is_staff(BORIS.id)  # asked again after a pause: fresh list
    assert len(desk.fake.calls_of("getChatAdministrators")) == 3


async def test_an_agent_can_work_while_the_admin_list_cannot_be_read(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/note first", thread_id=topic))
    desk.clock.advance(timedelta(minutes=10))
    desk.fake.fail_next("getChatAdministrators", network=True, times=3)
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=topic))
    await desk.feed(desk.updates.group_text(OUTSIDER, STAFF, "/close", thread_id=topic))
    await deliver(desk)
    taken = await ticket(desk, opened.id or 0)
    assert (taken.status, taken.assignee_id) == ("in_progress", ANNA.id)
    assert desk.last_text(IVAN) == "👋 Anna Agent is now handling your ticket C-000001."
    assert "Это доступно только сотрудникам поддержки." in topic_texts(desk, topic)


async def test_a_card_that_could_not_be_posted_is_posted_when_retried(desk: Desk) -> None:
    customer_id = await start(desk, IVAN)
    desk.fake.fail_next("sendMessage", chat_id=STAFF, error_code=500)
    opened = await desk.app.tickets.open_complaint(
        customer_id=customer_id,
        form=ComplaintForm(category="delivery", description="Late", incident_date=None),
    )
    await deliver(desk)
    current = await ticket(desk, opened.id or 0)
    assert len(desk.fake.topics(STAFF)) == 1
    assert current.topic_id is not None and current.card_message_id is not None
    texts = topic_texts(desk, current.topic_id)
    assert len([t for t in texts if t.startswith("🆕 C-000001")]) == 1
