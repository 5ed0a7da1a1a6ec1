"""An incident's life through the real dispatcher: declared from the alert, tickets linked by
hand and automatically, customers told, updated and resolved once each in their language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain.clock import FrozenClock
from bot.telegram.delivery import DeliveryWorker
from storage.delivery_store import DeliveryStore
from storage.incident_models import Incident, IncidentTicket
from storage.outbox_models import OutboxMessage
from tests.harness import Desk
from tests.incidents.conftest import (
    CARD_DECLINED,
    STAFF,
    SUPERVISOR,
    alerts,
    burst,
    complain,
    customer,
    deliver,
)
from tests.staff.conftest import ANNA, OUTSIDER, open_desk, ticket

KNOWN_EN = "ℹ️ We already know about this problem and are working on it."
KNOWN_RU = "ℹ️ Мы уже знаем об этой проблеме и занимаемся ею."


async def _incident(desk: Desk, number: str = "I-000001") -> Incident:
    async with desk.database.unit_of_work() as uow:
        from sqlmodel import select

        found = (await uow.session.exec(select(Incident).where(Incident.number == number))).first()
        assert found is not None
        return found


async def _links(desk: Desk) -> dict[int, str]:
    async with desk.database.unit_of_work() as uow:
        from sqlmodel import select

        rows = (await uow.session.exec(select(IncidentTicket))).all()
        return {row.ticket_id: row.how for row in rows}


async def _declared(desk: Desk) -> tuple[list[int], Incident]:
    """Five similar complaints (customers 0-4: en, ru, en, ru, en), declared from the alert."""
    languages = ["en", "ru", "en", "ru", "en"]
    tickets = []
    for index, text in enumerate(CARD_DECLINED[:5]):
        tickets.append(await complain(desk, index, text, language=languages[index]))
        desk.clock.advance(timedelta(minutes=2))
    await deliver(desk)
    await desk.press(ANNA, "🚨 Объявить инцидент", chat_id=STAFF)
    await deliver(desk)
    return [t.id or 0 for t in tickets], await _incident(desk)


async def test_declaring_from_the_alert_links_the_cluster_and_opens_a_topic(desk: Desk) -> None:
    ids, incident = await _declared(desk)

    assert incident.title == "My card payment was declined at checkout"
    assert incident.first_ticket_at is not None and incident.alerted_at is not None
    assert await _links(desk) == {tid: "cluster" for tid in ids}
    assert desk.fake.topics(STAFF)[incident.topic_id or 0] == (
        "🚨 I-000001 · My card payment was declined at checkout"
    )
    card = desk.fake.message(STAFF, incident.card_message_id or 0)
    assert card is not None and card.text is not None
    assert card.text.splitlines()[:4] == [
        "🚨 I-000001 · My card payment was declined at checkout",
        "Статус: выясняем · 10 мин с обнаружения",
        "Для клиентов: My card payment was declined at checkout",
        "Связано: 5 обращений",
    ]
    assert "C-000001, C-000002, C-000003, C-000004, C-000005" in card.text
    assert any("Объявлен инцидент I-000001" in t for t in desk.fake.texts_to(STAFF, thread_id=None))
    # The ticket's card shows its incident.
    first = await ticket(desk, ids[0])
    ticket_card = desk.fake.message(STAFF, first.card_message_id or 0)
    assert ticket_card is not None and ticket_card.text is not None
    assert "🚨 Инцидент I-000001 · My card payment was declined at checkout" in (ticket_card.text)
    # The alert cannot be declared twice.
    await desk.press(ANNA, "🚨 Объявить инцидент", chat_id=STAFF)
    answers = desk.fake.calls_of("answerCallbackQuery")
    assert answers[-1].params.get("text") == "Это оповещение уже обработано."


async def test_a_matching_new_complaint_is_linked_and_its_customer_told_at_once(
    desk: Desk,
) -> None:
    _ids, incident = await _declared(desk)
    await desk.feed(
        desk.updates.group_text(
            ANNA,
            STAFF,
            "/public Card payments fail; the bank is fixing it",
            thread_id=incident.topic_id,
        )
    )
    late = await complain(desk, 20, "card payment declined, what is going on", language="ru")
    await deliver(desk)

    assert (await _links(desk))[late.id or 0] == "auto"
    told = [t for t in desk.texts(customer(20, "ru")) if t.startswith(KNOWN_RU)]
    assert told == [
        f"{KNOWN_RU} Ваша жалоба {late.number} зарегистрирована, мы сообщим, когда всё исправим."
        "\n\nCard payments fail; the bank is fixing it"
    ]
    card = desk.fake.message(STAFF, incident.card_message_id or 0)
    assert card is not None and "Связано: 6 обращений" in (card.text or "")
    # An unrelated complaint in the same category is neither linked nor told.
    other = await complain(desk, 21, "I was charged twice for one order")
    await deliver(desk)
    assert other.id not in await _links(desk)
    assert not any(t.startswith(KNOWN_EN) for t in desk.texts(customer(21)))


async def test_link_and_unlink_by_hand_in_the_ticket_topic(desk: Desk) -> None:
    _ids, incident = await _declared(desk)
    other = await complain(desk, 30, "Refund for my returned item has not arrived")
    await deliver(desk)
    topic = (await ticket(desk, other.id or 0)).topic_id

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/link I-7", thread_id=topic))
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == (
        "Инцидента I-000007 нет. Открытые: /incidents."
    )
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/link I-000001", thread_id=topic))
    assert (await _links(desk))[other.id or 0] == "manual"
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == (
        "🔗 Заявка C-000006 связана с инцидентом I-000001."
    )
    card = desk.fake.message(STAFF, incident.card_message_id or 0)
    assert card is not None and "Связано: 6 обращений" in (card.text or "")

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/unlink", thread_id=topic))
    assert other.id not in await _links(desk)
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == (
        "Заявка C-000006 больше не связана с инцидентом I-000001."
    )
    card = desk.fake.message(STAFF, incident.card_message_id or 0)
    assert card is not None and "Связано: 5 обращений" in (card.text or "")
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/unlink", thread_id=topic))
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == (
        "Эта заявка не связана ни с одним инцидентом."
    )

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/incidents"))
    assert desk.fake.texts_to(STAFF, thread_id=None)[-1] == (
        "🚨 Открытые инциденты (1):\n"
        "• I-000001 · My card payment was declined at checkout · выясняем · 5 обращений"
    )


async def test_an_outsider_cannot_declare_or_link(desk: Desk) -> None:
    await desk.feed(desk.updates.group_text(OUTSIDER, STAFF, "/incident Everything is down"))
    async with desk.database.unit_of_work() as uow:
        from sqlmodel import select

        assert (await uow.session.exec(select(Incident))).all() == []


async def test_update_and_resolution_reach_all_and_only_linked_customers_once(
    desk: Desk,
) -> None:
    ids, incident = await _declared(desk)
    bystander = await complain(desk, 40, "I was charged twice for one order")
    await deliver(desk)
    topic = incident.topic_id
    # One linked ticket was resolved by an agent already: it is left alone.
    first_topic = (await ticket(desk, ids[0])).topic_id
    await desk.feed(
        desk.updates.group_text(
            ANNA, STAFF, "/resolve explanation Use another card meanwhile", thread_id=first_topic
        )
    )
    await deliver(desk)

    await desk.feed(
        desk.updates.group_text(
            ANNA, STAFF, "/update The bank found the cause <b>", thread_id=topic
        )
    )
    await deliver(desk)
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == "📣 Новость уходит 5 клиентам."
    for index, language in enumerate(["en", "ru", "en", "ru", "en"]):
        user = customer(index, language)
        updates = [t for t in desk.texts(user) if "The bank found the cause" in t]
        number = f"C-00000{index + 1}"
        if language == "en":
            expected = f"ℹ️ Update on your complaint {number} (My card payment was declined"
        else:
            expected = f"ℹ️ Новости по вашей жалобе {number} (My card payment was declined"
        assert len(updates) == 1 and updates[0].startswith(expected), updates
        assert updates[0].endswith("The bank found the cause <b>")
    assert not any("The bank found the cause" in t for t in desk.texts(customer(40)))

    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "/resolve refund The bank fixed it", thread_id=topic)
    )
    await deliver(desk)
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1] == (
        "✅ Инцидент I-000001 решён: решено связанных заявок — 4, "
        "уже решённых или закрытых (не тронуты) — 1."
    )
    for index, language in enumerate(["en", "ru", "en", "ru", "en"]):
        resolved = [t for t in desk.texts(customer(index, language)) if "The bank fixed it" in t]
        stored = await ticket(desk, ids[index])
        assert stored.status == "resolved"
        if index == 0:
            assert resolved == [] and stored.resolution_type == "explanation"
            continue
        assert len(resolved) == 1
        assert stored.resolution_type == "refund"
        if language == "en":
            assert resolved[0].startswith(f"✅ Your ticket {stored.number} is resolved.")
        else:
            assert resolved[0].startswith(f"✅ Ваше обращение {stored.number} решено.")
    assert (await ticket(desk, bystander.id or 0)).status == "new"
    assert not any("The bank fixed it" in t for t in desk.texts(customer(40)))
    assert (await _incident(desk)).status == "resolved"
    # Resolution rows are the broadcast kind; the survey sweep treats the tickets as usual.
    async with desk.database.unit_of_work() as uow:
        from sqlmodel import select

        kinds = (
            await uow.session.exec(
                select(OutboxMessage.kind).where(OutboxMessage.key.startswith("incident-resolve"))
            )
        ).all()
    assert sorted(set(kinds)) == ["incident_resolved", "text"]
    desk.clock.advance(timedelta(hours=1))
    surveys = await desk.app.dispatcher.workflow_data["surveys"].run_once()
    assert surveys.sent == 5


async def test_a_restart_in_the_middle_of_a_fan_out_loses_nothing(desk: Desk) -> None:
    many = [CARD_DECLINED[i % len(CARD_DECLINED)] for i in range(12)]
    await burst(desk, many, every=timedelta(minutes=1))
    await deliver(desk)
    await desk.press(ANNA, "🚨 Объявить инцидент", chat_id=STAFF)
    await deliver(desk)
    incident = await _incident(desk)
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "/update Still on it", thread_id=incident.topic_id)
    )
    staff = desk.app.staff
    assert staff is not None
    # A worker sends three of the twelve updates, then leases more and dies before sending.
    small = DeliveryWorker(
        desk.app.bot,
        desk.database,
        desk.clock,
        desk.app.catalogs,
        staff_chat_id=STAFF,
        staff_locale="ru",
        batch_size=3,
    )
    assert await small.run_once() == 3
    now = desk.clock.now()
    claimed = await DeliveryStore(desk.database).claim_due(
        now=now,
        limit=4,
        per_chat=1,
        paced=[],
        lease_until=now + timedelta(minutes=2),
        choose=list,
    )
    assert len(claimed) == 4
    desk.restart()
    desk.clock.advance(timedelta(minutes=3))
    await deliver(desk)
    for index in range(12):
        got = [t for t in desk.texts(customer(index)) if "Still on it" in t]
        assert len(got) == 1, (index, got)
    assert SUPERVISOR.id not in {
        c.chat_id for c in desk.fake.calls_of("sendMessage") if "Still" in (c.text or "")
    }


async def test_the_whole_life_on_postgresql(
    tmp_path: Path, clock: FrozenClock, postgres_url: str
) -> None:
    async with open_desk(
        tmp_path, clock, database_url=postgres_url, supervisor_ids=str(SUPERVISOR.id)
    ) as pg_desk:
        pg_desk.fake.add_user(SUPERVISOR)
        await test_a_burst_then_update_and_resolve(pg_desk)


async def test_a_burst_then_update_and_resolve(desk: Desk) -> None:
    ids, incident = await _declared(desk)
    assert len(alerts(desk, SUPERVISOR.id)) == 1
    late = await complain(desk, 20, "card payment declined, what is going on", language="ru")
    await deliver(desk)
    assert (await _links(desk))[late.id or 0] == "auto"
    topic = incident.topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/update On it", thread_id=topic))
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/resolve refund Fixed", thread_id=topic))
    await deliver(desk)
    for index, language in [*enumerate(["en", "ru", "en", "ru", "en"]), (20, "ru")]:
        texts = desk.texts(customer(index, language))
        assert len([t for t in texts if "On it" in t]) == 1
        assert len([t for t in texts if "Fixed" in t]) == 1
    for tid in [*ids, late.id or 0]:
        assert (await ticket(desk, tid)).status == "resolved"
