"""The staff's other ways in: /incident in a ticket's topic, a supervisor's private buttons,
the card's status buttons and suggestions, bad input, figures, an interrupted resolution."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.telegram.staff.incident_topics import IncidentCallback
from storage.incident_models import Incident, IncidentTicket
from tests.harness import Desk
from tests.incidents.conftest import CARD_DECLINED, STAFF, SUPERVISOR, burst, complain, deliver
from tests.staff.conftest import ANNA, ticket


async def _incidents(desk: Desk) -> list[Incident]:
    async with desk.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(Incident))).all())


async def _linked(desk: Desk) -> dict[int, str]:
    async with desk.database.unit_of_work() as uow:
        rows = (await uow.session.exec(select(IncidentTicket))).all()
        return {row.ticket_id: row.how for row in rows}


async def test_incident_by_hand_in_a_ticket_topic_links_that_ticket(desk: Desk) -> None:
    opened = await complain(desk, 1, "The whole site is down for me")
    await deliver(desk)
    topic = (await ticket(desk, opened.id or 0)).topic_id

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/incident", thread_id=topic))
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1].startswith("Так: /incident <название>")
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "/incident Site outage <script>", thread_id=topic)
    )
    [incident] = await _incidents(desk)
    assert (incident.number, incident.title, incident.category) == (
        "I-000001",
        "Site outage <script>",
        "payment",
    )
    assert await _linked(desk) == {opened.id: "manual"}
    assert desk.fake.topics(STAFF)[incident.topic_id or 0] == "🚨 I-000001 · Site outage <script>"
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == (
        "🚨 Объявлен инцидент I-000001: Site outage <script>"
    )
    # Incident commands outside the incident's topic say where they work.
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/update hello", thread_id=topic))
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1].startswith("В теме инцидента:")
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/link", thread_id=topic))
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == "В теме заявки: /link I-000012"
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/link I-000001"))
    assert desk.fake.texts_to(STAFF, thread_id=None)[-1] == ("Эта команда работает в теме заявки.")


async def test_a_supervisor_declares_from_the_private_alert(desk: Desk) -> None:
    await burst(desk, CARD_DECLINED[:5], every=timedelta(minutes=1))
    await deliver(desk)
    await desk.press(SUPERVISOR, "📋 Показать заявки")
    shown = desk.last_text(SUPERVISOR)
    assert shown.startswith("📋 Заявки оповещения (5):\n• C-000001 · новое: My card payment")
    await desk.press(SUPERVISOR, "🚨 Объявить инцидент")
    [incident] = await _incidents(desk)
    assert incident.declared_by == SUPERVISOR.id
    assert len(await _linked(desk)) == 5
    # The same alert's buttons in the group now say it was handled.
    await desk.press(ANNA, "🙅 Не инцидент", chat_id=STAFF)
    answers = desk.fake.calls_of("answerCallbackQuery")
    assert answers[-1].params.get("text") == "Это оповещение уже обработано."


async def test_a_stranger_cannot_press_a_supervisors_alert_buttons(desk: Desk) -> None:
    await burst(desk, CARD_DECLINED[:5], every=timedelta(minutes=1))
    await deliver(desk)
    alert = desk.fake.last_sent(SUPERVISOR.id)
    data = desk.fake.button_data(alert, "🚨 Объявить инцидент")
    stranger = await complain(desk, 60, "Something else entirely")
    assert stranger.id is not None
    from tests.incidents.conftest import customer

    await desk.feed(desk.updates.callback(customer(60), data, message=alert))
    assert await _incidents(desk) == []


async def test_status_buttons_suggestions_and_figures(desk: Desk) -> None:
    await burst(desk, CARD_DECLINED[:5], every=timedelta(minutes=2))
    await deliver(desk)
    await desk.press(ANNA, "🚨 Объявить инцидент", chat_id=STAFF)
    [incident] = await _incidents(desk)
    card = desk.fake.message(STAFF, incident.card_message_id or 0)
    assert card is not None
    await desk.feed(
        desk.updates.callback(ANNA, desk.fake.button_data(card, "🔎 Причина найдена"), message=card)
    )
    card = desk.fake.message(STAFF, incident.card_message_id or 0)
    assert card is not None and "Статус: причина найдена" in (card.text or "")
    assert [t for row in desk.fake.inline_buttons(card) for t, _ in row] == ["👀 Наблюдаем"]
    # A stale card's button cannot move the status back.
    back = IncidentCallback(action="status", id=incident.id or 0, value="identified").pack()
    await desk.feed(desk.updates.callback(ANNA, back, message=card))
    answers = desk.fake.calls_of("answerCallbackQuery")
    assert answers[-1].params.get("text") == (
        "Инцидент уже в статусе «причина найдена»; статус меняется только вперёд."
    )

    # A weaker match is only suggested on its ticket's card.
    weak = await complain(desk, 70, "Apple Pay fails on the site")
    await deliver(desk)
    assert weak.id not in await _linked(desk)
    weak_card = desk.fake.message(STAFF, (await ticket(desk, weak.id or 0)).card_message_id or 0)
    assert weak_card is not None
    assert "💡 Похоже на инцидент I-000001 · My card payment was declined at checkout." in (
        weak_card.text or ""
    )

    desk.clock.advance(timedelta(hours=2))
    topic = incident.topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/resolve refund Done", thread_id=topic))
    staff = desk.app.staff
    assert staff is not None and staff.incidents is not None
    start = desk.clock.now() - timedelta(days=1)
    figures = await staff.incidents.service.lifecycle.figures(since=start, until=desk.clock.now())
    assert (figures.incidents, figures.linked_tickets) == (1, 5)
    assert figures.time_to_detect == timedelta(minutes=8)  # first ticket to the alert
    assert figures.time_to_resolve == timedelta(hours=2, minutes=10)
    # A resolved incident takes no more updates.
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/update more", thread_id=topic))
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == "Инцидент I-000001 уже решён."


async def test_a_resolution_interrupted_by_a_restart_is_finished_by_the_sweep(desk: Desk) -> None:
    tickets = await burst(desk, CARD_DECLINED[:6], every=timedelta(minutes=1))
    await deliver(desk)
    await desk.press(ANNA, "🚨 Объявить инцидент", chat_id=STAFF)
    [incident] = await _incidents(desk)
    # As if the process died right after the incident's own transaction committed.
    async with desk.database.unit_of_work() as uow:
        await uow.session.exec(
            update(Incident)
            .where(col(Incident.id) == incident.id)
            .values(
                status="resolved",
                resolved_at=desk.clock.now(),
                resolution_type="apology",
                resolution_text="Sorry, fixed now",
                resolved_by=ANNA.id,
            )
        )
    desk.restart()
    staff = desk.app.staff
    assert staff is not None and staff.incidents is not None
    await staff.incidents.service.sweep()
    await staff.incidents.service.sweep()
    await deliver(desk)
    from tests.incidents.conftest import customer

    for index, opened in enumerate(tickets):
        assert (await ticket(desk, opened.id or 0)).status == "resolved"
        texts = [t for t in desk.texts(customer(index)) if "Sorry, fixed now" in t]
        assert len(texts) == 1
