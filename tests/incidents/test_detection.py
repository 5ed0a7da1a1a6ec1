"""Detection through the running desk: bursts alert once, the usual volume never, all-clear."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.incidents import WEEK
from storage.incident_models import IncidentObservation
from tests.harness import Desk
from tests.incidents.conftest import (
    CARD_DECLINED,
    STAFF,
    SUPERVISOR,
    alerts,
    burst,
    complain,
    deliver,
)

UNRELATED = [
    "The promo code is not accepted at checkout",
    "I cannot log in, the site says wrong password",
    "The app crashes when I open the cart",
    "Search on the website shows nothing for any word",
    "The product page photos do not load",
    "I did not get the email confirming my registration",
    "The site is in Russian although I chose English",
    "My wishlist disappeared after the update",
]


async def test_a_burst_of_similar_complaints_raises_exactly_one_alert(desk: Desk) -> None:
    await burst(desk, CARD_DECLINED, every=timedelta(minutes=2, seconds=30))
    await deliver(desk)

    staff_alerts = alerts(desk)
    assert len(staff_alerts) == 1
    alert = staff_alerts[0]
    assert alert.startswith("🚨 Похоже на инцидент: 5 жалоб на «My card payment was declined")
    assert "обычно 0.1 в час" in alert
    assert alert.count("• C-0000") == 3  # three sample tickets
    assert len(alerts(desk, SUPERVISOR.id)) == 1
    message = desk.fake.last_sent(SUPERVISOR.id)
    labels = [text for row in desk.fake.inline_buttons(message) for text, _ in row]
    assert labels == ["🚨 Объявить инцидент", "🙅 Не инцидент", "📋 Показать заявки"]


async def test_unrelated_complaints_raise_none(desk: Desk) -> None:
    await burst(desk, UNRELATED, every=timedelta(minutes=2), category="website")
    await deliver(desk)
    assert alerts(desk) == []
    assert alerts(desk, SUPERVISOR.id) == []


async def test_a_category_with_a_steady_30_an_hour_raises_none(desk: Desk) -> None:
    now = desk.clock.now()
    async with desk.database.unit_of_work() as uow:
        fake_id = 10_000_000
        for week in range(1, 5):
            for minute in range(-180, 180, 2):  # 30 an hour around this time
                fake_id += 1
                uow.session.add(
                    IncidentObservation(
                        ticket_id=fake_id,
                        category="payment",
                        created_at=now - week * WEEK + timedelta(minutes=minute),
                        signature="card declin",
                        cluster_id=fake_id,
                    )
                )
    texts = [CARD_DECLINED[i % len(CARD_DECLINED)] for i in range(30)]
    await burst(desk, texts, every=timedelta(minutes=2))
    await deliver(desk)
    assert alerts(desk) == []


async def test_the_same_burst_in_a_quiet_category_alerts_and_then_all_clear(desk: Desk) -> None:
    await burst(desk, CARD_DECLINED[:5], every=timedelta(minutes=1))
    await deliver(desk)
    assert len(alerts(desk)) == 1
    staff = desk.app.staff
    assert staff is not None and staff.incidents is not None

    desk.clock.advance(timedelta(minutes=30))
    assert await staff.incidents.service.sweep() == 0  # still within the window

    desk.clock.advance(timedelta(minutes=40))
    assert await staff.incidents.service.sweep() == 1
    assert await staff.incidents.service.sweep() == 0
    await deliver(desk)
    clear = [t for t in desk.fake.texts_to(STAFF, thread_id=None) if "Отбой" in t]
    assert clear == ["✅ Отбой: всплеск жалоб (Оплата и возврат денег) утих, всего 5 жалоб."]
    assert len(alerts(desk)) == 1


async def test_a_later_complaint_in_the_cluster_does_not_alert_again(desk: Desk) -> None:
    await burst(desk, CARD_DECLINED, every=timedelta(minutes=1))
    await complain(desk, 50, "card declined at checkout again", category="payment")
    await deliver(desk)
    assert len(alerts(desk)) == 1


async def test_the_minute_sweeps_send_the_all_clear(desk: Desk) -> None:
    from bot.jobs.scheduler import build_runner

    staff = desk.app.staff
    assert staff is not None and staff.incidents is not None
    runner = build_runner(
        desk.settings,
        desk.database,
        desk.clock,
        desk.app.tickets.sla,
        desk.app.catalogs,
        staff.incidents.service,
    )
    await burst(desk, CARD_DECLINED[:5], every=timedelta(minutes=1))
    desk.clock.advance(timedelta(minutes=61))
    report = await runner.tick()
    assert report.led and report.calmed_alerts == 1
    await runner.leadership.release()
    await deliver(desk)
    assert [t for t in desk.fake.texts_to(SUPERVISOR.id) if t.startswith("✅ Отбой")] != []
