"""Forged or stale button data: every press is answered, nothing raises, nothing changes."""

from __future__ import annotations

import logging

import pytest

from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_ticket, ticket

HUGE = "99999999999999999999999999"

CUSTOMER_JUNK = [
    f"t:open:0:{HUGE}",
    "t:open:0:-5",
    "t:open:abc:1",
    f"t:add:0:{HUGE}",
    "t:page:-1:0",
    f"t:page:{HUGE}:0",
    "t:explode:0:0",
    "sv:rate:1:99",
    "sv:rate:1:-3",
    f"sv:rate:{HUGE}:5",
    "sv:rate:1:x",
    "sv:reopen:-1:0",
    "sv:frobnicate:1:1",
    "m:unknown",
    "m:",
    "lang:xx",
    "lang:",
    f"kb:yes:{HUGE}:",
    "kb:show:1:no-such-entry",
    "kb:show:x:",
    "kb:unknown:1:",
    "faq:entry:tag:no-such-entry:0",
    f"faq:tag:delivery::{HUGE}",
    "faq:tag:delivery::-4",
    "faq:tag:no-such-tag::0",
    "faq:boom:::",
    "dr:1:maybe",
    f"dr:{HUGE}:1",
    "dr:424242:1",
    "f:submit::",
    "f:nonsense:x:y",
    "dk:take:1:",
    "ka:1:entry",
    "garbage",
    ":::::",
    "x" * 64,
    "🙂",
]

STAFF_JUNK = [
    f"dk:take:{HUGE}:",
    "dk:take:-1:",
    "dk:take:424242:",
    "dk:status:{tid}:bogus",
    "dk:status:{tid}:resolved",
    "dk:priority_set:{tid}:mega",
    "dk:assign_to:{tid}:notanumber",
    f"dk:assign_to:{{tid}}:{HUGE}",
    "dk:assign_to:{tid}:-7",
    "dk:resolve_type:{tid}:nonsense",
    "dk:priority:424242:",
    "dk:assign:424242:",
    "dk:resolve:424242:",
    "dk:resolve_type:424242:refund",
    "dk:back:424242:",
    "dk:history:424242:",
    "dk:explode:{tid}:",
    "dk:take:abc:",
    f"ka:{HUGE}:x",
    "ka:{tid}:no-such-entry",
    "m:tickets",
    "t:open:0:1",
    "sv:rate:1:5",
    "garbage",
    "dr:{tid}:1",
]


def _answered(desk: Desk, query_id: str) -> list[str]:
    return [
        str(call.params.get("text") or "")
        for call in desk.fake.calls_of("answerCallbackQuery")
        if call.params.get("callback_query_id") == query_id and call.ok
    ]


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_junk_presses_in_the_customer_chat_are_answered(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    before = await ticket(desk, opened.id or 0)
    menu = desk.fake.last_sent(IVAN.id)
    for data in CUSTOMER_JUNK:
        update = desk.updates.callback(IVAN, data, message=menu)
        assert update.callback_query is not None
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            await desk.feed(update)
        assert _failures(caplog) == [], data
        answers = _answered(desk, update.callback_query.id)
        assert len(answers) == 1 and answers[0], data  # a word, never a silent spinner
    after = await ticket(desk, opened.id or 0)
    assert (after.status, after.rating) == (before.status, before.rating)


async def test_junk_presses_in_the_staff_group_are_answered(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    before = await ticket(desk, opened.id or 0)
    card = desk.fake.message(STAFF, before.card_message_id or 0)
    assert card is not None
    for data in STAFF_JUNK:
        update = desk.updates.callback(ANNA, data.format(tid=opened.id), message=card)
        assert update.callback_query is not None
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            await desk.feed(update)
        assert _failures(caplog) == [], data
        answers = _answered(desk, update.callback_query.id)
        assert len(answers) == 1 and answers[0], data
    after = await ticket(desk, opened.id or 0)
    assert (after.status, after.priority, after.assignee_id) == (
        before.status,
        before.priority,
        before.assignee_id,
    )


async def test_an_out_of_date_button_says_so(desk: Desk) -> None:
    await desk.command(IVAN, "start")
    menu = desk.fake.last_sent(IVAN.id)
    update = desk.updates.callback(IVAN, "m:unknown", message=menu)
    assert update.callback_query is not None
    await desk.feed(update)
    assert _answered(desk, update.callback_query.id) == ["This button is out of date."]


GARBAGE_ARGUMENTS = [
    "/assign 99999999999999999999999999",
    "/assign ²",
    "/assign " + "x" * 4000,
    "/assign @<b>evil</b>",
    "/t " + "<" * 4000,
    "/status " + "😀" * 2000,
    "/priority <i>",
    "/resolve refund",
    "/resolve nonsense <b>text</b>",
]


async def test_garbage_command_arguments_get_a_reply(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    for text in GARBAGE_ARGUMENTS:
        before = len(desk.fake.calls)
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            await desk.feed(desk.updates.group_text(ANNA, STAFF, text, thread_id=topic))
        assert _failures(caplog) == [], text[:40]
        calls = desk.fake.calls[before:]
        assert [call.error for call in calls if call.error] == [], text[:40]
        assert any(call.name == "sendMessage" for call in calls), text[:40]
