"""Delivery under faults, seen from the customer and the ticket's topic: outages, refusals,
texts and captions longer than Telegram allows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.telegram.text_limits import CAPTION_LIMIT, TEXT_LIMIT, utf16_len
from storage.outbox_models import OutboxMessage
from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_ticket, ticket, topic_texts

SIGNATURE = "💬 Anna Agent:"


async def _topic(desk: Desk) -> int:
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    topic = (await ticket(desk, opened.id)).topic_id
    assert topic is not None
    await deliver(desk)
    return topic


async def _agent_writes(desk: Desk, topic: int, text: str) -> None:
    await desk.feed(desk.updates.group_text(ANNA, STAFF, text, thread_id=topic))


async def _statuses(desk: Desk) -> dict[str, str]:
    async with desk.database.unit_of_work() as uow:
        rows = (await uow.session.exec(select(OutboxMessage))).all()
    return {row.key: row.status for row in rows}


async def test_a_five_minute_outage_loses_no_reply(desk: Desk) -> None:
    topic = await _topic(desk)
    desk.fake.fail_until("sendMessage", desk.clock.now() + timedelta(minutes=5), error_code=500)

    await _agent_writes(desk, topic, "We are checking it")
    await _agent_writes(desk, topic, "Found it: it ships today")
    await deliver(desk, max_wait=timedelta(minutes=30))

    assert desk.texts(IVAN)[-2:] == [
        f"{SIGNATURE}\nWe are checking it",
        f"{SIGNATURE}\nFound it: it ships today",
    ]
    assert "failed" not in (await _statuses(desk)).values()
    failed_calls = [c for c in desk.fake.sent_to(IVAN.id, include_failed=True) if not c.ok]
    assert failed_calls, "the outage was not felt"


async def test_a_long_outage_tells_the_topic_once_and_still_delivers(desk: Desk) -> None:
    topic = await _topic(desk)
    desk.fake.fail_until(
        "sendMessage", desk.clock.now() + timedelta(hours=3), error_code=502, chat_id=IVAN.id
    )

    await _agent_writes(desk, topic, "We are checking it")
    await deliver(desk, max_wait=timedelta(hours=4))

    assert desk.last_text(IVAN) == f"{SIGNATURE}\nWe are checking it"
    delayed = [text for text in topic_texts(desk, topic) if text.startswith("⏳")]
    assert len(delayed) == 1
    assert "автоматически" in delayed[0] and "Bad Gateway" in delayed[0]


async def test_a_refused_reply_is_shown_in_the_topic_with_the_reason_and_a_way_on(
    desk: Desk,
) -> None:
    topic = await _topic(desk)
    desk.fake.fail_next(
        "sendMessage",
        error_code=400,
        description="Bad Request: can't parse entities: unsupported start tag",
        chat_id=IVAN.id,
    )

    await _agent_writes(desk, topic, "Please check the attached")
    await deliver(desk)

    assert f"{SIGNATURE}\nPlease check the attached" not in desk.texts(IVAN)
    notice = topic_texts(desk, topic)[-1]
    assert notice.startswith("⚠️ Не доставлено клиенту: Telegram не смог разобрать его оформление.")
    assert "Отправьте его ещё раз без оформления." in notice
    sent = desk.fake.messages_to(STAFF, thread_id=topic)[-1]
    assert sent.reply_to_message is not None  # points at the agent's message
    assert sent.reply_to_message.text == "Please check the attached"


async def test_a_customer_whose_chat_is_gone_is_reported_in_the_topic(desk: Desk) -> None:
    topic = await _topic(desk)
    desk.fake.never_started(IVAN.id)

    await _agent_writes(desk, topic, "Hello?")
    await deliver(desk)

    notice = topic_texts(desk, topic)[-1]
    assert "чата клиента больше нет" in notice
    assert "когда напишет боту" in notice


def _sentences(length: int) -> str:
    text = ""
    number = 0
    while len(text) < length:
        number += 1
        text += f"Sentence number {number} explains a detail. "
    return text[:length].rstrip(" ")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_sentences(4090), id="4090-chars-plus-signature"),
        pytest.param(_sentences(TEXT_LIMIT), id="4096-chars"),
        pytest.param("😀" * 2048, id="2048-emoji"),
        pytest.param(
            ("First paragraph line. " * 120).strip() + "\n\n" + "Second. " * 400, id="paragraphs"
        ),
    ],
)
async def test_a_long_reply_arrives_in_several_messages(desk: Desk, body: str) -> None:
    topic = await _topic(desk)
    before = len(desk.texts(IVAN))

    await _agent_writes(desk, topic, body)
    await deliver(desk)

    parts = desk.texts(IVAN)[before:]
    assert len(parts) >= 2
    assert all(utf16_len(part) <= TEXT_LIMIT for part in parts)
    assert parts[0].startswith(SIGNATURE)
    received = "\n".join(parts).removeprefix(SIGNATURE).split()
    assert received == body.split()
    if " " in body:
        # Cut between sentences, not inside one.
        assert all(part.endswith(".") for part in parts[:-1])
    notices = [text for text in topic_texts(desk, topic) if text.startswith("⚠️")]
    assert notices == []


async def test_a_photo_with_a_full_caption_gets_its_caption_as_a_text(desk: Desk) -> None:
    topic = await _topic(desk)
    caption = _sentences(CAPTION_LIMIT)
    before = len(desk.fake.messages_to(IVAN.id))

    await desk.feed(desk.updates.group_photo(ANNA, STAFF, caption, thread_id=topic))
    await deliver(desk)

    photo, text = desk.fake.messages_to(IVAN.id)[before:]
    assert photo.photo and not photo.caption
    assert text.text == f"{SIGNATURE}\n{caption}"
    assert text.reply_to_message is not None
    assert text.reply_to_message.message_id == photo.message_id


async def test_a_short_caption_stays_with_its_photo(desk: Desk) -> None:
    topic = await _topic(desk)
    before = len(desk.fake.messages_to(IVAN.id))

    await desk.feed(desk.updates.group_photo(ANNA, STAFF, "The label", thread_id=topic))
    await deliver(desk)

    (photo,) = desk.fake.messages_to(IVAN.id)[before:]
    assert photo.caption == f"{SIGNATURE}\nThe label"


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"error_code": 500}, id="500"),
        pytest.param({"retry_after": 7}, id="429"),
    ],
)
async def test_the_added_to_your_ticket_answer_survives_a_fault(
    desk: Desk, fault: dict[str, Any]
) -> None:
    topic = await _topic(desk)
    desk.fake.fail_next("sendMessage", chat_id=IVAN.id, **fault)

    await desk.say(IVAN, "Any news?")
    await deliver(desk)

    after_start = desk.texts(IVAN)[1:]
    assert after_start == ["✓ Added to your ticket C-000001."]  # once, nothing about an error
    assert not any("failed" in text or "Не удалось" in text for text in desk.fake.texts_to(STAFF))
    assert topic_texts(desk, topic)[-1] == "Any news?"  # the message itself was relayed
    assert len([c for c in desk.fake.sent_to(IVAN.id, include_failed=True) if not c.ok]) == 1
    async with desk.database.unit_of_work() as uow:
        rows = (await uow.session.exec(select(OutboxMessage))).all()
    (ack,) = [row for row in rows if row.key.startswith("ack:")]
    assert ack.sent_at is not None
    waited = ack.sent_at - ack.created_at
    assert waited >= timedelta(seconds=fault.get("retry_after", 2))


async def test_a_reply_is_retried_for_two_days_then_shown_as_not_delivered(desk: Desk) -> None:
    topic = await _topic(desk)
    desk.fake.fail_until(
        "sendMessage", desk.clock.now() + timedelta(days=5), error_code=500, chat_id=IVAN.id
    )

    await _agent_writes(desk, topic, "We are checking it")
    await deliver(desk, max_wait=timedelta(days=1, hours=12))
    assert [s for k, s in (await _statuses(desk)).items() if k.startswith("reply:")] == ["pending"]

    await deliver(desk, max_wait=timedelta(days=1))
    assert [s for k, s in (await _statuses(desk)).items() if k.startswith("reply:")] == ["failed"]
    notice = topic_texts(desk, topic)[-1]
    assert "Telegram не принимал его 48 часов." in notice


async def test_editing_a_split_reply_edits_its_first_part(desk: Desk) -> None:
    topic = await _topic(desk)
    body = _sentences(5000)
    update = desk.updates.group_text(ANNA, STAFF, body, thread_id=topic)
    assert update.message is not None
    before = len(desk.fake.messages_to(IVAN.id))
    await desk.feed(update)
    await deliver(desk)
    first, second = desk.fake.messages_to(IVAN.id)[before:]

    edit = desk.updates.edited_text(ANNA, update.message.message_id, "Short now", chat_id=STAFF)
    await desk.feed(edit)
    await deliver(desk)

    edited_first = desk.fake.message(IVAN.id, first.message_id)
    assert edited_first is not None and edited_first.text == f"{SIGNATURE}\nShort now"
    unchanged = desk.fake.message(IVAN.id, second.message_id)
    assert unchanged is not None and unchanged.text == second.text
    assert "failed" not in (await _statuses(desk)).values()


async def test_an_album_with_a_full_caption_gets_its_caption_as_a_text(desk: Desk) -> None:
    topic = await _topic(desk)
    caption = _sentences(CAPTION_LIMIT)
    before = len(desk.fake.messages_to(IVAN.id))

    await desk.feed(
        *desk.updates.album(ANNA, ("photo", "photo"), caption, chat_id=STAFF, thread_id=topic)
    )
    await deliver(desk)

    first, second, text = desk.fake.messages_to(IVAN.id)[before:]
    assert first.photo and second.photo and not first.caption
    assert text.text == f"{SIGNATURE}\n{caption}"
    assert text.reply_to_message is not None
    assert text.reply_to_message.message_id == first.message_id


async def test_a_long_flood_wait_is_told_in_the_topic_at_once(desk: Desk) -> None:
    topic = await _topic(desk)
    desk.fake.fail_next("sendMessage", retry_after=1800, chat_id=IVAN.id)

    await _agent_writes(desk, topic, "We are checking it")
    staff = desk.app.staff
    assert staff is not None
    await staff.delivery.run_once()  # the reply meets the flood wait
    await staff.delivery.run_once()  # the notice goes to the topic

    assert f"{SIGNATURE}\nWe are checking it" not in desk.texts(IVAN)
    delayed = [text for text in topic_texts(desk, topic) if text.startswith("⏳")]
    assert len(delayed) == 1 and "retry after 1800" in delayed[0]

    await deliver(desk, max_wait=timedelta(hours=1))
    assert desk.last_text(IVAN) == f"{SIGNATURE}\nWe are checking it"
    assert len([text for text in topic_texts(desk, topic) if text.startswith("⏳")]) == 1


async def test_after_a_handler_failure_the_answers_survive_a_500(desk: Desk) -> None:
    await _topic(desk)

    async def broken(*_: object, **__: object) -> Any:
        raise RuntimeError("database went away")

    desk.app.tickets.place_customer_message = broken  # type: ignore[method-assign]
    desk.fake.fail_next("sendMessage", error_code=500, chat_id=IVAN.id)
    desk.fake.fail_next("sendMessage", error_code=500, chat_id=STAFF)

    await desk.say(IVAN, "Hello? Anyone there?")
    await deliver(desk)

    received = [text for text in desk.texts(IVAN) if text.startswith("Your message is received")]
    assert len(received) == 1
    alarms = [text for text in desk.fake.texts_to(STAFF) if "Не удалось обработать" in text]
    assert len(alarms) == 1
