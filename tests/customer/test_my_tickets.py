"""`/tickets`, a ticket's history, adding details, and messages outside any dialogue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.domain.clock import FrozenClock
from bot.domain.tickets import TicketStatus
from bot.services.intake import ComplaintForm
from storage.models import Customer, Ticket, TicketMessage
from tests.harness import Desk, running_desk
from tests.staff.conftest import deliver
from tests.telegram_fake import TelegramUser

ANNA = TelegramUser(2001, "Anna", language_code="en")
OLGA = TelegramUser(2002, "Ольга", language_code="ru")


async def _customer_id(desk: Desk, user: TelegramUser) -> int:
    async with desk.database.unit_of_work() as uow:
        customer = await uow.customers.by_telegram_id(telegram_id=user.id)
        assert customer is not None and customer.id is not None
        return customer.id


async def _open_tickets(desk: Desk, clock: FrozenClock, user: TelegramUser, count: int) -> None:
    await desk.command(user, "start")
    customer_id = await _customer_id(desk, user)
    for index in range(count):
        clock.advance(timedelta(minutes=10))
        await desk.app.tickets.open_complaint(
            customer_id=customer_id,
            form=ComplaintForm(
                category="delivery" if index % 2 else "payment",
                description=f"Problem number {index + 1} described here",
                incident_date=None,
            ),
        )


async def test_tickets_are_listed_with_pagination(desk: Desk, clock: FrozenClock) -> None:
    await _open_tickets(desk, clock, ANNA, 7)
    await desk.command(ANNA, "tickets")
    first_page = desk.last_text(ANNA).splitlines()
    assert first_page[0] == "Your tickets (page 1 of 2, 7 in all)"
    assert first_page[2] == (
        "C-000007 · Payment and refunds · registered · updated Nov 23, 2026, 13:40"
        " · expect by Nov 23, 2026, 17:40"
    )
    assert len(first_page) == 2 + 5
    assert desk.buttons(ANNA) == [
        "Open C-000007",
        "Open C-000006",
        "Open C-000005",
        "Open C-000004",
        "Open C-000003",
        "Next ➡️",
    ]
    await desk.press(ANNA, "Next ➡️")
    second_page = desk.last_text(ANNA).splitlines()
    assert second_page[0] == "Your tickets (page 2 of 2, 7 in all)"
    assert [line.split(" · ")[0] for line in second_page[2:]] == ["C-000002", "C-000001"]
    assert desk.buttons(ANNA) == ["Open C-000002", "Open C-000001", "⬅️ Previous"]


async def test_no_tickets_yet(desk: Desk) -> None:
    await desk.command(OLGA, "tickets")
    assert desk.last_text(OLGA) == "У вас пока нет обращений."


async def test_my_tickets_from_the_main_menu(desk: Desk, clock: FrozenClock) -> None:
    await _open_tickets(desk, clock, ANNA, 2)
    await desk.command(ANNA, "start")
    await desk.press(ANNA, "📋 My tickets")
    assert desk.last_text(ANNA).startswith("Your tickets (page 1 of 1, 2 in all)")
    assert desk.buttons(ANNA) == ["Open C-000002", "Open C-000001"]


async def test_opening_a_ticket_shows_its_history_and_details_can_be_added(
    desk: Desk, clock: FrozenClock
) -> None:
    await _open_tickets(desk, clock, ANNA, 1)
    await desk.command(ANNA, "tickets")
    await desk.press(ANNA, "Open C-000001")
    card = desk.last_text(ANNA)
    assert card.splitlines()[:3] == [
        "C-000001 · Payment and refunds",
        "Status: registered",
        "Registered: Nov 23, 2026, 12:40",
    ]
    assert "Description: Problem number 1 described here" in card
    assert "Expect the first answer by: Nov 23, 2026, 16:40" in card  # payment: high priority
    assert "Expected resolution by: Nov 24, 2026, 12:40" in card
    assert desk.buttons(ANNA) == ["➕ Add details", "⬅️ Back to my tickets"]
    await desk.press(ANNA, "➕ Add details")
    assert desk.last_text(ANNA) == (
        "Send the details or files for C-000001. Press Done when finished."
    )
    await desk.say(ANNA, "I paid twice, the second charge was at 14:02")
    await deliver(desk)
    assert desk.last_text(ANNA) == "Added to the ticket. Send more or press Done."
    await desk.feed(desk.updates.photo(ANNA, caption="bank statement"))
    await desk.press(ANNA, "✅ Done")
    assert desk.last_text(ANNA) == "Thank you, the details are saved with your ticket."
    async with desk.database.unit_of_work() as uow:
        messages = (await uow.session.exec(select(TicketMessage))).all()
        attachments = await uow.attachments.for_ticket(ticket_id=messages[0].ticket_id or 0)
    assert [(m.direction, m.text) for m in messages] == [
        ("in", "I paid twice, the second charge was at 14:02"),
        ("in", "bank statement"),
    ]
    assert [a.kind for a in attachments] == ["photo"]
    await desk.command(ANNA, "tickets")
    await desk.press(ANNA, "Open C-000001")
    assert "you: I paid twice, the second charge was at 14:02" in desk.last_text(ANNA)
    assert "Attachments: 1 file" in desk.last_text(ANNA)


async def test_someone_elses_ticket_cannot_be_opened(desk: Desk, clock: FrozenClock) -> None:
    await _open_tickets(desk, clock, ANNA, 1)
    await desk.command(OLGA, "start")
    foreign = desk.updates.callback(OLGA, "t:open:0:1", message=desk.fake.last_sent(OLGA.id))
    await desk.feed(foreign)
    assert desk.fake.calls_of("answerCallbackQuery")[-1].params["text"] == "Обращение не найдено."


async def test_a_sticker_without_tickets_is_stored_and_answered_with_a_choice(desk: Desk) -> None:
    await desk.feed(desk.updates.sticker(OLGA))
    assert desk.last_text(OLGA) == "Спасибо, я сохранил ваше сообщение. Что вы хотите сделать?"
    assert desk.buttons(OLGA)[:3] == ["📝 Подать жалобу", "📋 Мои обращения", "❓ Задать вопрос"]
    async with desk.database.unit_of_work() as uow:
        stored = (await uow.session.exec(select(TicketMessage))).one()
    assert (stored.content_type, stored.ticket_id) == ("sticker", None)


async def test_free_text_without_tickets_is_stored_and_answered(desk: Desk) -> None:
    await desk.say(OLGA, "Добрый день, у меня вопрос")
    assert desk.last_text(OLGA) == (
        "Готового ответа у меня нет. Могу зарегистрировать жалобу или передать вопрос сотруднику:"
    )
    assert desk.buttons(OLGA) == ["📝 Подать жалобу", "🙋 Связаться с сотрудником"]
    async with desk.database.unit_of_work() as uow:
        stored = (await uow.session.exec(select(TicketMessage))).one()
    assert (stored.text, stored.ticket_id, stored.direction) == (
        "Добрый день, у меня вопрос",
        None,
        "in",
    )


async def test_a_message_with_an_open_ticket_goes_to_that_ticket(
    desk: Desk, clock: FrozenClock
) -> None:
    await _open_tickets(desk, clock, ANNA, 1)
    await desk.say(ANNA, "Any news?")
    await deliver(desk)
    assert desk.last_text(ANNA) == "✓ Added to your ticket C-000001."
    async with desk.database.unit_of_work() as uow:
        ticket = (await uow.session.exec(select(Ticket))).one()
        stored = (await uow.session.exec(select(TicketMessage))).one()
    assert stored.ticket_id == ticket.id
    assert ticket.status == TicketStatus.NEW


async def test_a_burst_of_messages_is_acknowledged_once(desk: Desk, clock: FrozenClock) -> None:
    await _open_tickets(desk, clock, ANNA, 1)
    before = len(desk.texts(ANNA))
    for text in ("Any news?", "The parcel number is 123", "It was due on Monday"):
        await desk.say(ANNA, text)
        await deliver(desk)
        clock.advance(timedelta(minutes=1))
    ack = "✓ Added to your ticket C-000001."
    assert desk.texts(ANNA)[before:] == [ack]

    clock.advance(timedelta(minutes=10))  # a pause longer than a burst: a new burst
    await desk.say(ANNA, "Still nothing")
    await deliver(desk)
    assert desk.texts(ANNA)[before:] == [ack, ack]
    async with desk.database.unit_of_work() as uow:
        stored = (await uow.session.exec(select(TicketMessage))).all()
    assert len(stored) == 4  # every message kept, whether answered or not


async def test_switching_language(desk: Desk) -> None:
    await desk.command(OLGA, "language")
    assert desk.buttons(OLGA) == ["🇷🇺 Русский", "🇬🇧 English"]
    await desk.press(OLGA, "🇬🇧 English")
    assert desk.last_text(OLGA) == "Done, I will speak English from now on."
    await desk.command(OLGA, "start")
    assert desk.last_text(OLGA).startswith("Hello, Ольга!")
    async with desk.database.unit_of_work() as uow:
        customer = (await uow.session.exec(select(Customer))).one()
    assert customer.locale == "en"


async def test_an_unexpected_error_keeps_the_message_and_tells_everyone(
    desk: Desk, clock: FrozenClock
) -> None:
    await _open_tickets(desk, clock, ANNA, 1)

    async def broken(*_: object, **__: object) -> tuple[Ticket | None, TicketMessage]:
        raise RuntimeError("database went away")

    desk.app.tickets.place_customer_message = broken  # type: ignore[method-assign]
    await desk.say(ANNA, "Hello? Anyone there?")
    await deliver(desk)
    assert desk.last_text(ANNA).startswith("Your message is received and saved.")
    staff_texts = desk.fake.texts_to(desk.settings.staff_chat_id or 0)
    assert staff_texts[-1] == (
        "⚠️ Не удалось обработать обновление 700000002 от клиента 2001. "
        "Сообщение сохранено (#1); проверьте журнал."
    )
    async with desk.database.unit_of_work() as uow:
        stored = (await uow.session.exec(select(TicketMessage))).one()
    assert stored.text == "Hello? Anyone there?"


async def test_commands_menu_is_registered_in_both_languages(desk: Desk) -> None:
    from bot.app import register_commands

    await register_commands(desk.app)
    calls = desk.fake.calls_of("setMyCommands")
    by_language = {
        c.params.get("language_code"): c.params["commands"]
        for c in calls
        if c.params["scope"]["type"] == "all_private_chats"
    }
    assert set(by_language) == {None, "en"}
    assert [c["command"] for c in by_language[None]] == [
        "start",
        "complaint",
        "tickets",
        "faq",
        "language",
        "cancel",
        "help",
        "privacy",
        "mydata",
        "deletemydata",
    ]
    assert by_language["en"][1]["description"] == "File a complaint"
    assert by_language[None][1]["description"] == "Подать жалобу"


async def test_writing_about_a_recently_resolved_ticket_reopens_it(
    desk: Desk, clock: FrozenClock
) -> None:
    from bot.domain.tickets import Actor
    from bot.services.transitions import apply_transition

    await _open_tickets(desk, clock, ANNA, 1)
    async with desk.database.unit_of_work() as uow:
        ticket = (await uow.session.exec(select(Ticket))).one()
        for target in (TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED):
            await apply_transition(
                uow,
                ticket=ticket,
                target=target,
                actor=Actor.agent(77),
                now=clock.now(),
                sla=desk.app.tickets.sla,
            )
    clock.advance(timedelta(days=2))
    await desk.say(ANNA, "It broke again")
    async with desk.database.unit_of_work() as uow:
        ticket = (await uow.session.exec(select(Ticket))).one()
        stored = (await uow.session.exec(select(TicketMessage))).one()
    assert stored.ticket_id == ticket.id
    assert ticket.status == TicketStatus.REOPENED


async def test_without_a_staff_group_the_acknowledgement_wakes_the_delivery(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_desk(tmp_path, clock, staff_chat_id=None) as desk:
        await _open_tickets(desk, clock, ANNA, 1)
        staff = desk.app.staff
        assert staff is not None
        await deliver(desk)
        wake = staff.delivery._wake  # what `DeliveryWorker.notify` sets
        wake.clear()
        await desk.say(ANNA, "Any news?")
        assert wake.is_set()  # not left for the worker's next idle poll
        await deliver(desk)
        assert desk.last_text(ANNA) == "✓ Added to your ticket C-000001."
