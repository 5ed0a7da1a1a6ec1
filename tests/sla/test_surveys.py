"""The satisfaction survey end to end: sweep -> outbox -> fake Telegram -> buttons -> ticket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.clock import FrozenClock
from bot.services.surveys import survey_callback
from bot.telegram.customer.survey import SurveyCallback
from tests.harness import STAFF_CHAT_ID, Desk, running_desk
from tests.sla.desk_helpers import deliver, resolved_ticket, sweep_and_deliver
from tests.sla.helpers import events, outbox, ticket
from tests.telegram_fake import TelegramUser

ANNA = TelegramUser(3001, "Anna", language_code="en")
OLGA = TelegramUser(3002, "Ольга", language_code="ru")
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    async with running_desk(
        tmp_path,
        clock,
        survey_delay_minutes=30,
        survey_reminder_days=3,
        auto_close_days=7,
    ) as running:
        yield running


def test_service_packs_survey_buttons_like_the_adapter() -> None:
    packed = SurveyCallback(action="rate", ticket_id=123456, score=5).pack()
    assert survey_callback("rate", 123456, 5) == packed
    assert len(packed.encode()) < 64


async def test_survey_comes_after_the_delay_once(desk: Desk, clock: FrozenClock) -> None:
    opened = await resolved_ticket(desk, ANNA)
    clock.advance(29 * MINUTE)
    await sweep_and_deliver(desk)
    assert not any("How satisfied" in text for text in desk.texts(ANNA))

    clock.advance(MINUTE)
    report = await sweep_and_deliver(desk)
    assert report.surveys is not None and report.surveys.sent == 1
    assert desk.last_text(ANNA).startswith(
        f"How satisfied are you with how we handled {opened.number}"
    )
    assert desk.buttons(ANNA) == ["1", "2", "3", "4", "5"]

    report = await sweep_and_deliver(desk)
    assert report.surveys is not None and report.surveys.sent == 0
    assert sum("How satisfied" in text for text in desk.texts(ANNA)) == 1


async def test_a_five_closes_the_ticket_and_takes_a_comment(desk: Desk, clock: FrozenClock) -> None:
    opened = await resolved_ticket(desk, ANNA)
    clock.advance(30 * MINUTE)
    await sweep_and_deliver(desk)

    await desk.press(ANNA, "5")
    stored = await ticket(desk.database, opened.id or 0)
    assert (stored.rating, stored.rated_at, stored.status) == (5, clock.now(), "closed")
    assert "Skip" in desk.buttons(ANNA)
    await desk.say(ANNA, "Quick and <b>polite</b>, thanks")
    assert desk.last_text(ANNA) == "Thank you, we have passed your comment on to the team."
    stored = await ticket(desk.database, opened.id or 0)
    assert stored.rating_comment == "Quick and <b>polite</b>, thanks"
    assert [e.data["score"] for e in await events(desk.database, "rating")] == [5]
    assert [e.comment for e in await events(desk.database, "rating_comment")] == [
        "Quick and <b>polite</b>, thanks"
    ]
    await deliver(desk)
    staff = desk.fake.texts_to(STAFF_CHAT_ID, thread_id=stored.topic_id)
    assert any("Quick and <b>polite</b>, thanks" in text for text in staff)  # escaped, shown as is
    # The closing sweep has nothing to do for a rated ticket.
    clock.advance(8 * DAY)
    report = await sweep_and_deliver(desk)
    assert report.sla is not None and report.sla.auto_closed == 0


async def test_a_one_alerts_the_topic_and_can_reopen(desk: Desk, clock: FrozenClock) -> None:
    opened = await resolved_ticket(desk, OLGA)
    clock.advance(30 * MINUTE)
    await sweep_and_deliver(desk)
    assert "Насколько вы довольны" in desk.last_text(OLGA)

    await desk.press(OLGA, "1")
    assert "Открыть обращение снова" in desk.last_text(OLGA)
    assert (await ticket(desk.database, opened.id or 0)).status == "resolved"
    await deliver(desk)
    alerts = desk.fake.texts_to(STAFF_CHAT_ID, thread_id=opened.topic_id)
    assert any(opened.number in text and "1 из 5" in text for text in alerts)

    await desk.press(OLGA, "🔄 Да, открыть снова")
    stored = await ticket(desk.database, opened.id or 0)
    assert stored.status == "reopened"
    assert stored.rating == 1
    assert "снова открыто" in desk.last_text(OLGA)
    reopened = [e for e in await events(desk.database, "status") if e.to_status == "reopened"]
    assert [(e.actor_kind, e.comment) for e in reopened] == [("customer", "low_rating")]
    await deliver(desk)
    topic = desk.fake.texts_to(STAFF_CHAT_ID, thread_id=stored.topic_id)
    assert "снова открыто клиентом" in topic[-1]


async def test_a_low_rating_without_reopening_closes(desk: Desk, clock: FrozenClock) -> None:
    opened = await resolved_ticket(desk, ANNA)
    clock.advance(30 * MINUTE)
    await sweep_and_deliver(desk)
    await desk.press(ANNA, "2")
    await desk.press(ANNA, "No, close it")
    assert (await ticket(desk.database, opened.id or 0)).status == "closed"
    assert desk.last_text(ANNA) == f"Ticket {opened.number} is closed. Thank you for your feedback."


async def test_a_changed_vote_replaces_the_rating_within_a_day(
    desk: Desk, clock: FrozenClock
) -> None:
    opened = await resolved_ticket(desk, ANNA)
    clock.advance(30 * MINUTE)
    await sweep_and_deliver(desk)
    survey = desk.fake.last_sent(ANNA.id)

    await desk.press(ANNA, "3")
    await desk.press(ANNA, "Skip")
    clock.advance(2 * 60 * MINUTE)
    data = survey_callback("rate", opened.id or 0, 4)
    await desk.feed(desk.updates.callback(ANNA, data, message=survey))
    stored = await ticket(desk.database, opened.id or 0)
    assert stored.rating == 4
    changes = await events(desk.database, "rating_changed")
    assert [(e.data["previous"], e.data["score"]) for e in changes] == [(3, 4)]
    edited = desk.fake.message(ANNA.id, survey.message_id)
    assert edited is not None and "4 of 5" in (edited.text or "")

    clock.advance(DAY)
    data = survey_callback("rate", opened.id or 0, 1)
    await desk.feed(desk.updates.callback(ANNA, data, message=survey))
    assert (await ticket(desk.database, opened.id or 0)).rating == 4
    answers = desk.fake.calls_of("answerCallbackQuery")
    assert "within 24 hours" in str(answers[-1].params.get("text"))
    assert len(await events(desk.database, "rating_changed")) == 1


async def test_no_answer_gets_one_reminder_then_closes(desk: Desk, clock: FrozenClock) -> None:
    opened = await resolved_ticket(desk, ANNA)
    resolved_at = clock.now()
    clock.advance(30 * MINUTE)
    await sweep_and_deliver(desk)

    clock.set(resolved_at + 30 * MINUTE + 3 * DAY - MINUTE)
    report = await sweep_and_deliver(desk)
    assert report.surveys is not None and report.surveys.reminded == 0
    clock.advance(MINUTE)
    report = await sweep_and_deliver(desk)
    assert report.surveys is not None and report.surveys.reminded == 1
    assert desk.last_text(ANNA).startswith("A reminder: how satisfied")
    assert desk.buttons(ANNA) == ["1", "2", "3", "4", "5"]
    clock.advance(DAY)
    report = await sweep_and_deliver(desk)
    assert report.surveys is not None and report.surveys.reminded == 0

    clock.set(resolved_at + 7 * DAY)
    report = await sweep_and_deliver(desk)
    assert report.sla is not None and report.sla.auto_closed == 1
    stored = await ticket(desk.database, opened.id or 0)
    assert (stored.status, stored.rating) == ("closed", None)
    assert desk.last_text(ANNA).startswith(f"Ticket {opened.number} is closed")
    kinds = [e.kind for e in await events(desk.database) if e.kind.startswith("survey")]
    assert kinds == ["survey_sent", "survey_reminder"]
    surveys = [row for row in await outbox(desk.database) if row.key.startswith("survey")]
    assert [row.status for row in surveys] == ["sent", "sent"]
