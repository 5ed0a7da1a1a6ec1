"""Staff actions from buttons and commands, what customers are told, and robustness."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import Desk
from tests.staff.conftest import (
    ANNA,
    BORIS,
    IVAN,
    MARIA,
    OUTSIDER,
    STAFF,
    deliver,
    open_desk,
    open_ticket,
    ticket,
    topic_texts,
)


async def _press(desk: Desk, user, ticket_id: int, label: str) -> None:
    current = await ticket(desk, ticket_id)
    card = desk.fake.message(STAFF, current.card_message_id or 0)
    assert card is not None
    data = desk.fake.button_data(card, label)
    await desk.feed(desk.updates.callback(user, data, message=card))


async def test_take_status_resolve_close_reopen_in_english(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    topic = (await ticket(desk, tid)).topic_id

    await _press(desk, ANNA, tid, "🙋 Взять")
    await deliver(desk)
    assert desk.last_text(IVAN) == "👋 Anna Agent is now handling your ticket C-000001."
    taken = await ticket(desk, tid)
    assert (taken.status, taken.assignee_id) == ("in_progress", ANNA.id)
    assert taken.first_response_at is not None
    assert desk.fake.topics(STAFF)[topic or 0].startswith("🔧 C-000001")

    await _press(desk, ANNA, tid, "⏳ Ждём клиента")
    await deliver(desk)
    assert desk.last_text(IVAN).startswith("⏳ Ticket C-000001: we are waiting for your answer")

    await desk.say(IVAN, "Here is the order number 5555")
    await deliver(desk)
    assert (await ticket(desk, tid)).status == "in_progress"
    assert any("клиент ответил" in text for text in topic_texts(desk, topic))

    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "/resolve refund Money returned <b>", thread_id=topic)
    )
    await deliver(desk)
    resolved = await ticket(desk, tid)
    assert (resolved.status, resolved.resolution_type) == ("resolved", "refund")
    assert resolved.resolution_text == "Money returned <b>"
    last = desk.fake.messages_to(IVAN.id)[-1]
    assert last.text == (
        "✅ Your ticket C-000001 is resolved.\nDecision: refund\nMoney returned <b>\n\n"
        "Did this solve it?"
    )
    assert [t for row in desk.fake.inline_buttons(last) for t, _ in row] == ["👍 Yes", "👎 No"]

    await desk.feed(desk.updates.callback(IVAN, desk.fake.button_data(last, "👎 No"), message=last))
    await deliver(desk)
    assert (await ticket(desk, tid)).status == "reopened"
    assert "open again" in desk.last_text(IVAN)

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/close", thread_id=topic))
    await deliver(desk)
    assert (await ticket(desk, tid)).status == "closed"
    assert desk.last_text(IVAN) == "🔒 Your ticket C-000001 is closed. Thank you for contacting us."

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/reopen", thread_id=topic))
    await deliver(desk)
    assert (await ticket(desk, tid)).status == "reopened"
    assert desk.last_text(IVAN) == "🔁 Your ticket C-000001 is open again; we will get back to you."


async def test_customer_messages_in_russian_and_an_illegal_move(desk: Desk) -> None:
    opened = await open_ticket(desk, MARIA)
    tid = opened.id or 0
    topic = (await ticket(desk, tid)).topic_id
    await desk.feed(desk.updates.group_text(BORIS, STAFF, "/take", thread_id=topic))
    await deliver(desk)
    assert desk.texts(MARIA)[-1] == "👋 Вашим обращением C-000001 занимается Boris Second."

    await desk.feed(desk.updates.group_text(BORIS, STAFF, "/close", thread_id=topic))
    await desk.feed(desk.updates.group_text(BORIS, STAFF, "/status waiting", thread_id=topic))
    await deliver(desk)
    assert (
        desk.texts(MARIA)[-1]
        == "🔒 Ваше обращение C-000001 закрыто. Спасибо, что обратились к нам."
    )
    assert "⚠️ Обращение в статусе закрыто нельзя перевести в ждём клиента." in topic_texts(
        desk, topic
    )


async def test_non_staff_is_refused(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    topic = (await ticket(desk, tid)).topic_id
    await _press(desk, OUTSIDER, tid, "🙋 Взять")
    answer = desk.fake.calls_of("answerCallbackQuery")[-1]
    assert answer.params["text"] == "Это доступно только сотрудникам поддержки."
    assert answer.params["show_alert"] is True
    await desk.feed(desk.updates.group_text(OUTSIDER, STAFF, "hello customer", thread_id=topic))
    await deliver(desk)
    assert (await ticket(desk, tid)).status == "new"
    assert "hello customer" not in " ".join(desk.texts(IVAN))

    await desk.command(IVAN, "take")
    assert desk.last_text(IVAN) == "This command works only in the staff group."


async def test_403_is_shown_to_the_agent(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    desk.fake.block_user(IVAN.id)
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "Are you there?", thread_id=topic))
    await deliver(desk)
    assert topic_texts(desk, topic)[-1].endswith(
        "Не доставлено: клиент заблокировал бота. Он ничего не увидит, пока снова не напишет боту."
    )
    async with desk.database.unit_of_work() as uow:
        customer = await uow.customers.by_telegram_id(telegram_id=IVAN.id)
    assert customer is not None and customer.is_unreachable


async def test_429_is_retried_after_retry_after(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    desk.fake.fail_next("sendMessage", retry_after=20, chat_id=IVAN.id)
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "Reply", thread_id=topic))
    staff = desk.app.staff
    assert staff is not None
    await staff.delivery.run_once()
    assert desk.last_text(IVAN) != "💬 Anna Agent:\nReply"
    desk.clock.advance(timedelta(seconds=19))
    await staff.delivery.run_once()
    assert desk.last_text(IVAN) != "💬 Anna Agent:\nReply"
    desk.clock.advance(timedelta(seconds=1))
    await staff.delivery.run_once()
    assert desk.last_text(IVAN) == "💬 Anna Agent:\nReply"


async def test_a_deleted_topic_is_recreated_with_the_card(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    old = (await ticket(desk, tid)).topic_id or 0
    desk.fake.delete_topic(STAFF, old)
    await desk.say(IVAN, "Anyone?")
    await deliver(desk)
    new = (await ticket(desk, tid)).topic_id
    assert new is not None and new != old
    texts = topic_texts(desk, new)
    assert texts[0].startswith("🆕 C-000001")
    assert texts[-1] == "Anyone?"


async def test_fallback_mode_without_topics(tmp_path, clock) -> None:
    async with open_desk(tmp_path, clock) as desk:
        desk.fake.set_forum(STAFF, False)
        opened = await open_ticket(desk, IVAN)
        tid = opened.id or 0
        current = await ticket(desk, tid)
        assert current.topic_id is None and current.card_message_id is not None
        await desk.say(IVAN, "Hello?")
        await deliver(desk)
        texts = desk.fake.texts_to(STAFF)
        assert texts[-2] == "✉️ C-000001 · пишет Ivan P.:"
        relayed = desk.fake.messages_to(STAFF)[-1]
        await desk.feed(
            desk.updates.group_text(
                ANNA, STAFF, "Hi!", is_topic=False, reply_to_message_id=relayed.message_id
            )
        )
        await deliver(desk)
        assert desk.last_text(IVAN) == "💬 Anna Agent:\nHi!"


async def test_ban_and_unban(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    topic = (await ticket(desk, tid)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/ban", thread_id=topic))
    await deliver(desk)
    before = len(topic_texts(desk, topic))
    await desk.say(IVAN, "spam one")
    await desk.say(IVAN, "spam two")
    await deliver(desk)
    assert desk.texts(IVAN)[-1].startswith("Your messages are no longer handled")
    assert sum("no longer handled" in text for text in desk.texts(IVAN)) == 1
    assert len(topic_texts(desk, topic)) == before
    async with desk.database.unit_of_work() as uow:
        stored = [m.text for m in await uow.messages.for_ticket(ticket_id=tid)]
    assert "spam two" in stored

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/unban", thread_id=topic))
    await desk.say(IVAN, "sorry")
    await deliver(desk)
    assert topic_texts(desk, topic)[-1] == "sorry"


async def test_templates_with_placeholders(desk: Desk) -> None:
    opened = await open_ticket(desk, MARIA)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/templates", thread_id=topic))
    assert "/t hello — Приветствие" in topic_texts(desk, topic)[-1]
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/t hello", thread_id=topic))
    await deliver(desk)
    assert desk.texts(MARIA)[-1] == (
        "💬 Anna Agent:\nЗдравствуйте, Мария! Меня зовут Anna Agent, "
        "я занимаюсь вашим обращением C-000001."
    )


async def test_routing_round_robin_and_away(tmp_path, clock) -> None:
    rules = tmp_path / "routing.yaml"
    rules.write_text(
        "teams:\n  delivery: {agents: [2001, 2002], auto_assign: true}\n"
        "rules:\n  - {category: delivery, team: delivery, priority: high}\n",
        encoding="utf-8",
    )
    async with open_desk(tmp_path, clock, routing_file=rules) as desk:
        for agent in (ANNA, BORIS):
            await desk.feed(desk.updates.group_text(agent, STAFF, "/back", is_topic=False))
        first = await open_ticket(desk, IVAN)
        second = await open_ticket(desk, MARIA)
        assignees = [(await ticket(desk, t.id or 0)).assignee_id for t in (first, second)]
        assert assignees == [ANNA.id, BORIS.id]
        assert (await ticket(desk, first.id or 0)).team == "delivery"
        assert (await ticket(desk, first.id or 0)).priority == "high"

        await desk.feed(desk.updates.group_text(BORIS, STAFF, "/away", is_topic=False))
        third = await open_ticket(desk, IVAN, description="another")
        assert (await ticket(desk, third.id or 0)).assignee_id == ANNA.id
