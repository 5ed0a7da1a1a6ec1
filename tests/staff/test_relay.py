"""Customer -> topic -> agent -> customer: texts, photos, albums, notes, edits, replies."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.services.intake import ComplaintForm
from bot.services.outbox import REFRESH_CARD
from storage.outbox_models import OutboxMessage
from tests.harness import Desk
from tests.staff.conftest import (
    ANNA,
    IVAN,
    MARIA,
    STAFF,
    deliver,
    open_ticket,
    start,
    ticket,
    topic_texts,
)


async def _topic(desk: Desk) -> tuple[int, int]:
    opened = await open_ticket(desk, IVAN)
    assert opened.id is not None
    current = await ticket(desk, opened.id)
    assert current.topic_id is not None
    return opened.id, current.topic_id


async def test_a_ticket_gets_a_topic_named_after_it_with_a_card(desk: Desk) -> None:
    ticket_id, topic = await _topic(desk)

    assert desk.fake.topics(STAFF) == {topic: "🆕 C-000001 · Доставка · Ivan P."}
    card = desk.fake.messages_to(STAFF, thread_id=topic)[0]
    assert card.text is not None
    assert card.text.startswith("🆕 C-000001 · жалоба · Доставка\nСтатус: новое")
    assert "Клиент: Ivan P. (@ivanp, id 1001) · язык en · ранее: 0 обращений" in card.text
    assert "The parcel did not arrive" in card.text
    buttons = [text for row in desk.fake.inline_buttons(card) for text, _ in row]
    # Related knowledge-base articles ("📤 ...") are tested in test_kb_card.py.
    buttons = [text for text in buttons if not text.startswith("📤")]
    assert buttons == [
        "🙋 Взять",
        "👥 Назначить…",
        "🔧 В работе",
        "⏳ Ждём клиента",
        "✅ Решено",
        "⚡ Приоритет",
        "🔒 Закрыть",
        "📜 История клиента",
    ]
    assert (await ticket(desk, ticket_id)).card_message_id == card.message_id


async def test_text_round_trip_with_header_once_per_burst(desk: Desk) -> None:
    _, topic = await _topic(desk)

    await desk.say(IVAN, "Where is my parcel?")
    await desk.say(IVAN, "It was due yesterday")
    await deliver(desk)
    assert topic_texts(desk, topic)[1:] == [
        "✉️ C-000001 · пишет Ivan P.:",
        "Where is my parcel?",
        "It was due yesterday",
    ]
    copies = desk.fake.calls_of("copyMessage")
    assert [c.params["from_chat_id"] for c in copies] == [IVAN.id, IVAN.id]

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "We are checking it", thread_id=topic))
    await deliver(desk)
    assert desk.last_text(IVAN) == "💬 Anna Agent:\nWe are checking it"
    assert "forward_origin" not in str(desk.fake.calls_of("sendMessage")[-1].raw_result)


async def test_company_name_instead_of_the_agents_name(tmp_path, clock) -> None:
    from tests.staff.conftest import open_desk

    async with open_desk(tmp_path, clock, show_agent_names=False) as desk:
        _, topic = await _topic(desk)
        await desk.feed(desk.updates.group_text(ANNA, STAFF, "Hello", thread_id=topic))
        await deliver(desk)
        assert desk.last_text(IVAN) == "💬 Support team:\nHello"


async def test_photo_and_album_both_ways(desk: Desk) -> None:
    _, topic = await _topic(desk)

    await desk.feed(desk.updates.photo(IVAN, caption="the box"))
    await desk.feed(*desk.updates.album(IVAN, ("photo", "photo", "video"), caption="all of it"))
    await deliver(desk)
    groups = desk.fake.calls_of("sendMediaGroup")
    assert len(groups) == 1
    assert groups[0].params["chat_id"] == STAFF
    assert groups[0].params["message_thread_id"] == topic
    assert [m["type"] for m in groups[0].params["media"]] == ["photo", "photo", "video"]
    assert "the box" in topic_texts(desk, topic)

    await desk.feed(desk.updates.group_photo(ANNA, STAFF, caption="like this?", thread_id=topic))
    await desk.feed(*desk.updates.album(ANNA, ("photo", "photo"), chat_id=STAFF, thread_id=topic))
    await deliver(desk)
    photo = desk.fake.messages_to(IVAN.id)[-3]
    assert photo.photo is not None
    assert photo.caption == "💬 Anna Agent:\nlike this?"
    album = desk.fake.calls_of("sendMediaGroup")[-1]
    assert album.params["chat_id"] == IVAN.id


async def test_a_note_is_stored_but_never_sent(desk: Desk) -> None:
    ticket_id, topic = await _topic(desk)
    before = len(desk.texts(IVAN))

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "#note he called twice", thread_id=topic))
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/note VIP customer", thread_id=topic))
    await deliver(desk)

    assert len(desk.texts(IVAN)) == before
    assert (
        topic_texts(desk, topic).count(
            "C-000001 · 📝 Внутренняя заметка сохранена (клиенту не отправлена)."
        )
        == 2
    )
    async with desk.database.unit_of_work() as uow:
        notes = [
            m for m in await uow.messages.for_ticket(ticket_id=ticket_id) if m.direction == "note"
        ]
    assert [n.text for n in notes] == ["he called twice", "VIP customer"]
    assert all(not n.visible_to_customer for n in notes)


async def test_edits_are_carried_over_both_ways(desk: Desk) -> None:
    _, topic = await _topic(desk)
    await desk.say(IVAN, "Order 1234")
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "Thanks, checking", thread_id=topic))
    await deliver(desk)
    customer_message = desk.fake.messages_to(IVAN.id)[-1]
    agent_source = [m for m in desk.fake.calls if m.name == "copyMessage"][-1]

    sent_to_ivan = desk.fake.messages_to(IVAN.id)
    own = [m for m in desk.fake.messages_to(STAFF, thread_id=topic)]
    relayed_copy = own[-1]
    ivan_original_id = agent_source.params["message_id"]

    await desk.feed(desk.updates.edited_text(IVAN, ivan_original_id, "Order 12345 <b>"))
    await deliver(desk)
    edited_copy = desk.fake.message(STAFF, relayed_copy.message_id)
    assert edited_copy is not None and edited_copy.text == "Order 12345 <b>"

    agent_message_id = max(
        mid
        for mid in range(1, 200)
        if (desk.fake.stored_message(STAFF, mid) or {}).get("text") == "Thanks, checking"
    )
    await desk.feed(
        desk.updates.edited_text(ANNA, agent_message_id, "Thanks, checking now", chat_id=STAFF)
    )
    await deliver(desk)
    edited = desk.fake.message(IVAN.id, customer_message.message_id)
    assert edited is not None and edited.text == "💬 Anna Agent:\nThanks, checking now"
    assert sent_to_ivan


async def test_replies_point_at_the_right_message(desk: Desk) -> None:
    _, topic = await _topic(desk)
    await desk.say(IVAN, "First question")
    await deliver(desk)
    copy = desk.fake.messages_to(STAFF, thread_id=topic)[-1]
    await desk.feed(
        desk.updates.group_text(
            ANNA, STAFF, "About that", thread_id=topic, reply_to_message_id=copy.message_id
        )
    )
    await deliver(desk)
    reply = desk.fake.calls_of("sendMessage")[-1]
    original = desk.fake.calls_of("copyMessage")[-1].params["message_id"]
    assert reply.params["reply_parameters"]["message_id"] == original


async def test_html_in_customer_text_never_breaks_a_message(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN, description="<b>bold</i> & <script>")
    current = await ticket(desk, opened.id or 0)
    await desk.say(IVAN, "</i><b>hi")
    await deliver(desk)
    texts = topic_texts(desk, current.topic_id)
    assert "<b>bold</i> & <script>" in texts[0]
    assert texts[-1] == "</i><b>hi"
    assert all(call.ok for call in desk.fake.calls)


async def test_two_simultaneous_messages_make_one_topic(desk: Desk) -> None:
    desk.fake.fail_next("createForumTopic", retry_after=5)
    opened = await desk.app.tickets.open_complaint(
        customer_id=await start(desk, IVAN),
        form=ComplaintForm(category="delivery", description="Late", incident_date=None),
    )
    assert (await ticket(desk, opened.id or 0)).topic_id is None

    await asyncio.gather(
        desk.feed(desk.updates.text(IVAN, "one")), desk.feed(desk.updates.text(IVAN, "two"))
    )
    await deliver(desk)
    assert len(desk.fake.topics(STAFF)) == 1
    topic = (await ticket(desk, opened.id or 0)).topic_id
    assert set(topic_texts(desk, topic)) >= {"one", "two"}


async def test_writing_in_the_staff_group_does_not_make_an_agent_a_customer(desk: Desk) -> None:
    # The customer side (registration, ban checks) belongs to private chats only; an agent
    # who never wrote to the bot privately is not counted among the customers.
    _, topic = await _topic(desk)

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "We are checking it", thread_id=topic))
    await deliver(desk)

    assert desk.last_text(IVAN) == "💬 Anna Agent:\nWe are checking it"
    async with desk.database.reading() as uow:
        assert await uow.customers.by_telegram_id(telegram_id=ANNA.id) is None
        assert await uow.customers.by_telegram_id(telegram_id=IVAN.id) is not None


async def test_the_card_counts_the_customers_earlier_tickets_and_names_the_assignee(
    desk: Desk,
) -> None:
    await open_ticket(desk, MARIA)  # another customer's ticket is not counted
    await open_ticket(desk, IVAN)
    second = await open_ticket(desk, IVAN, description="Still nothing")
    assert second.id is not None
    topic = (await ticket(desk, second.id)).topic_id
    assert topic is not None

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "We are on it", thread_id=topic))
    await deliver(desk)

    card = desk.fake.message(STAFF, (await ticket(desk, second.id)).card_message_id or 0)
    assert card is not None and card.text is not None
    assert "id 1001) · язык en · ранее: 1" in card.text
    assert "исполнитель: Anna Agent" in card.text


async def _card_refreshes(desk: Desk, ticket_id: int) -> int:
    async with desk.database.reading() as uow:
        rows = await uow.session.exec(
            select(OutboxMessage).where(
                OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == REFRESH_CARD
            )
        )
        return len(rows.all())


async def test_a_first_reply_moves_and_assigns_the_ticket_with_one_card_refresh(
    desk: Desk,
) -> None:
    ticket_id, topic = await _topic(desk)
    refreshes = await _card_refreshes(desk, ticket_id)

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "On it", thread_id=topic))
    await deliver(desk)

    # One refresh (it reads the ticket after the commit) shows both changes.
    assert await _card_refreshes(desk, ticket_id) == refreshes + 1
    card = desk.fake.message(STAFF, (await ticket(desk, ticket_id)).card_message_id or 0)
    assert card is not None and card.text is not None
    assert "Статус: в работе" in card.text
    assert "исполнитель: Anna Agent" in card.text
    assert desk.fake.topics(STAFF)[topic] == "🔧 C-000001 · Доставка · Ivan P."


async def test_every_message_either_way_marks_the_ticket_updated(desk: Desk) -> None:
    ticket_id, topic = await _topic(desk)

    desk.clock.advance(timedelta(minutes=1))
    await desk.say(IVAN, "Any news?")
    assert (await ticket(desk, ticket_id)).updated_at == desk.clock.now()

    for text in ("On it", "Found it"):  # the first reply, then a plain one
        desk.clock.advance(timedelta(minutes=1))
        await desk.feed(desk.updates.group_text(ANNA, STAFF, text, thread_id=topic))
        assert (await ticket(desk, ticket_id)).updated_at == desk.clock.now()
    await deliver(desk)
    assert desk.last_text(IVAN) == "💬 Anna Agent:\nFound it"
