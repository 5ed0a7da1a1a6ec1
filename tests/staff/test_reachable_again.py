"""A customer who blocked the bot and writes again is reachable again."""

from __future__ import annotations

from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_ticket, ticket

UNREACHABLE = "Клиент заблокировал бота"


async def _unreachable(desk: Desk) -> bool:
    async with desk.database.unit_of_work() as uow:
        customer = await uow.customers.by_telegram_id(telegram_id=IVAN.id)
        assert customer is not None
        return customer.is_unreachable


def _card_text(desk: Desk, message_id: int | None) -> str:
    card = desk.fake.message(STAFF, message_id or 0)
    assert card is not None and card.text is not None
    return card.text


async def test_a_message_from_a_blocked_customer_clears_the_mark(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    current = await ticket(desk, opened.id or 0)
    desk.fake.block_user(IVAN.id)
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "Are you there?", thread_id=current.topic_id)
    )
    await deliver(desk)
    assert await _unreachable(desk)
    assert UNREACHABLE in _card_text(desk, current.card_message_id)

    desk.fake.unblock_user(IVAN.id)
    await desk.say(IVAN, "Sorry, I am back")
    await deliver(desk)
    assert not await _unreachable(desk)
    assert UNREACHABLE not in _card_text(desk, current.card_message_id)
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "Welcome back", thread_id=current.topic_id)
    )
    await deliver(desk)
    assert desk.last_text(IVAN) == "💬 Anna Agent:\nWelcome back"


async def test_any_message_clears_the_mark_even_without_a_ticket(desk: Desk) -> None:
    await desk.command(IVAN, "start")
    async with desk.database.unit_of_work() as uow:
        customer = await uow.customers.by_telegram_id(telegram_id=IVAN.id)
        assert customer is not None
        customer.is_unreachable = True
        await uow.customers.save(customer=customer)
    await desk.command(IVAN, "help")
    assert not await _unreachable(desk)
