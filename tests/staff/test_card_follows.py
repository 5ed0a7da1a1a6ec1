"""The card and the topic name follow status changes made outside the staff handlers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiogram.types import Message

from bot.domain.clock import FrozenClock
from tests.harness import Desk
from tests.sla.desk_helpers import runner
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_desk, open_ticket, ticket


def _card(desk: Desk, message_id: int | None) -> Message:
    card = desk.fake.message(STAFF, message_id or 0)
    assert card is not None and card.text is not None
    return card


async def _resolved(desk: Desk) -> int:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    topic = (await ticket(desk, tid)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=topic))
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "/resolve refund Money returned", thread_id=topic)
    )
    await deliver(desk)
    assert desk.fake.topics(STAFF)[topic or 0].startswith("✅ C-000001")
    return tid


async def test_auto_close_by_the_sweep_updates_card_and_topic(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with open_desk(tmp_path, clock, auto_close_days=7) as desk:
        tid = await _resolved(desk)
        current = await ticket(desk, tid)
        clock.advance(timedelta(days=8))
        report = await runner(desk).tick()
        assert report.sla is not None and report.sla.auto_closed == 1
        await deliver(desk)
        closed = await ticket(desk, tid)
        assert closed.status == "closed"
        assert desk.fake.topics(STAFF)[current.topic_id or 0].startswith("🔒 C-000001")
        card = _card(desk, closed.card_message_id)
        assert card.text is not None
        assert card.text.startswith("🔒 C-000001")
        assert "Статус: закрыто" in card.text
        assert next(text for row in desk.fake.inline_buttons(card) for text, _ in row) == (
            "🔁 Переоткрыть"
        )


async def test_a_rating_with_a_comment_shows_on_the_card(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with open_desk(tmp_path, clock, survey_delay_minutes=30) as desk:
        tid = await _resolved(desk)
        clock.advance(timedelta(minutes=31))
        await runner(desk).tick()
        await deliver(desk)
        await desk.press(IVAN, "5")
        await desk.say(IVAN, "Fast and <b>kind</b>")
        await deliver(desk)
        rated = await ticket(desk, tid)
        assert (rated.status, rated.rating) == ("closed", 5)
        assert desk.fake.topics(STAFF)[rated.topic_id or 0].startswith("🔒 C-000001")
        card = _card(desk, rated.card_message_id)
        assert card.text is not None
        assert "Оценка: ★5/5 Fast and <b>kind</b>" in card.text
        assert "Решение: возврат денег — Money returned" in card.text
        assert "Сроки:" in card.text


async def test_a_customer_writing_to_a_resolved_ticket_reopens_card_and_topic(
    desk: Desk,
) -> None:
    tid = await _resolved(desk)
    await desk.say(IVAN, "It is still broken")
    await deliver(desk)
    reopened = await ticket(desk, tid)
    assert reopened.status == "reopened"
    assert desk.fake.topics(STAFF)[reopened.topic_id or 0].startswith("🔁 C-000001")
    assert _card(desk, reopened.card_message_id).text.startswith("🔁 C-000001")  # type: ignore[union-attr]
