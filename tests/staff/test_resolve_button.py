"""Resolving from the card's button: type, then the decision text, or cancel."""

from __future__ import annotations

from aiogram.types import Message

from tests.harness import Desk
from tests.staff.conftest import ANNA, BORIS, IVAN, STAFF, deliver, open_ticket, ticket, topic_texts
from tests.telegram_fake import TelegramUser


async def _press(desk: Desk, user: TelegramUser, message: Message, label: str) -> None:
    current = desk.fake.message(STAFF, message.message_id) or message
    await desk.feed(
        desk.updates.callback(user, desk.fake.button_data(current, label), message=current)
    )


def _card(desk: Desk, message_id: int | None) -> Message:
    card = desk.fake.message(STAFF, message_id or 0)
    assert card is not None
    return card


def _labels(desk: Desk, message: Message) -> list[str]:
    current = desk.fake.message(STAFF, message.message_id) or message
    return [text for row in desk.fake.inline_buttons(current) for text, _ in row]


async def test_resolve_button_asks_type_then_text(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    current = await ticket(desk, tid)
    topic = current.topic_id
    card = _card(desk, current.card_message_id)
    await _press(desk, ANNA, card, "🙋 Взять")
    await deliver(desk)

    await _press(desk, ANNA, card, "✅ Решено")
    assert _labels(desk, card)[:6] == [
        "возврат денег",
        "замена",
        "скидка или компенсация",
        "разъяснение",
        "извинение",
        "отказ с обоснованием",
    ]
    await _press(desk, ANNA, card, "возврат денег")
    prompt = desk.fake.messages_to(STAFF, thread_id=topic)[-1]
    assert prompt.text is not None and "напишите решение для клиента (возврат денег)" in prompt.text
    assert _labels(desk, prompt) == ["✖️ Отмена"]
    await deliver(desk)  # the card is refreshed by the delivery worker
    assert "🙋 Взять" in _labels(desk, card)  # the card got its buttons back

    # Another agent's message and a message elsewhere are not the decision.
    await desk.feed(desk.updates.group_text(BORIS, STAFF, "I can help", thread_id=topic))
    await deliver(desk)
    assert (await ticket(desk, tid)).status == "in_progress"

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "Money <b>returned</b>", thread_id=topic))
    await deliver(desk)
    resolved = await ticket(desk, tid)
    assert (resolved.status, resolved.resolution_type) == ("resolved", "refund")
    assert resolved.resolution_text == "Money <b>returned</b>"
    assert desk.last_text(IVAN) == (
        "✅ Your ticket C-000001 is resolved.\nDecision: refund\nMoney <b>returned</b>\n\n"
        "Did this solve it?"
    )
    assert _labels(desk, prompt) == []
    assert "Money <b>returned</b>" not in " ".join(t for t in desk.texts(IVAN) if "💬" in t)

    # The next message of the agent is an ordinary reply again... to a resolved ticket: refused.
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "Anything else?", thread_id=topic))
    assert "Anything else?" not in " ".join(desk.texts(IVAN))


async def test_cancel_drops_the_pending_decision(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    current = await ticket(desk, tid)
    topic = current.topic_id
    card = _card(desk, current.card_message_id)
    await _press(desk, ANNA, card, "🙋 Взять")
    await _press(desk, ANNA, card, "✅ Решено")
    await _press(desk, ANNA, card, "извинение")
    prompt = desk.fake.messages_to(STAFF, thread_id=topic)[-1]
    await _press(desk, ANNA, prompt, "✖️ Отмена")
    assert desk.fake.calls_of("answerCallbackQuery")[-1].params["text"] == "Решение отменено."
    assert _labels(desk, prompt) == []

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "Sorry for the delay", thread_id=topic))
    await deliver(desk)
    assert (await ticket(desk, tid)).status == "in_progress"
    assert desk.last_text(IVAN) == "💬 Anna Agent:\nSorry for the delay"
    assert not any(
        "решение" in text.lower() and "отмен" in text for text in topic_texts(desk, topic)
    )


async def test_back_from_a_menu_gives_the_card_its_own_buttons(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    current = await ticket(desk, opened.id or 0)
    card = _card(desk, current.card_message_id)
    own = _labels(desk, card)
    for menu in ("⚡ Приоритет", "✅ Решено"):
        await _press(desk, ANNA, card, menu)
        assert "⬅️ Назад" in _labels(desk, card)
        await _press(desk, ANNA, card, "⬅️ Назад")
        await deliver(desk)
        assert _labels(desk, card) == own
    assert (await ticket(desk, opened.id or 0)).status == "new"  # a menu changes nothing
