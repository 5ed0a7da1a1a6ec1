"""The complaint form end to end, through the real dispatcher, as the customer sees it."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlmodel import col, select

from storage.models import Attachment, Customer, Ticket, TicketEvent
from tests.harness import Desk
from tests.telegram_fake import TelegramUser

ANNA = TelegramUser(1001, "Anna", "Smith", username="anna", language_code="en")
IVAN = TelegramUser(1002, "Иван", "Петров", username="ivan", language_code="ru")


async def _tickets(desk: Desk) -> list[Ticket]:
    async with desk.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(Ticket).order_by(col(Ticket.id)))).all())


async def fill_delivery_form_en(desk: Desk, user: TelegramUser = ANNA) -> None:
    await desk.command(user, "complaint")
    await desk.press(user, "Delivery")
    await desk.say(user, "12345678")
    await desk.say(user, "The courier left the parcel in the rain")
    await desk.press(user, "Yesterday")
    await desk.press(user, "Skip")
    await desk.say(user, "Skip")


async def test_whole_form_in_english(desk: Desk) -> None:
    await desk.command(ANNA, "start")
    assert desk.last_text(ANNA).startswith("Hello, Anna!")
    assert desk.buttons(ANNA) == [
        "📝 File a complaint",
        "📋 My tickets",
        "❓ Ask a question",
        "🌐 Language",
    ]
    await desk.press(ANNA, "📝 File a complaint")
    assert desk.last_text(ANNA) == "What is your complaint about?"
    assert desk.buttons(ANNA) == [
        "Product quality",
        "Delivery",
        "Payment and refunds",
        "Service and staff",
        "Website or app",
        "Other",
        "✖️ Cancel",
    ]
    await desk.press(ANNA, "Delivery")
    assert desk.last_text(ANNA) == "What is the order number (e.g. 12345678)?"
    await desk.say(ANNA, "12345678")
    assert desk.last_text(ANNA).startswith("Describe what happened")
    await desk.say(ANNA, "The courier left the parcel in the rain")
    assert desk.buttons(ANNA) == ["Today", "Yesterday", "Other date", "⬅️ Back", "✖️ Cancel"]
    await desk.press(ANNA, "Yesterday")
    assert desk.last_text(ANNA).startswith("Send photos, receipts")
    await desk.feed(desk.updates.photo(ANNA))
    assert desk.last_text(ANNA) == "Received. Send more files or press Done."
    await desk.press(ANNA, "✅ Done (1)")
    contact_prompt = desk.fake.sent_to(ANNA.id)[-1]
    assert desk.fake.reply_buttons(contact_prompt) == [
        ["📱 Share my phone number"],
        ["Skip"],
        ["⬅️ Back", "✖️ Cancel"],
    ]
    await desk.feed(desk.updates.contact(ANNA, "+447700900123"))
    summary = desk.last_text(ANNA)
    assert summary.splitlines() == [
        "Please check your complaint",
        "",
        "Category: Delivery",
        "Order number: 12345678",
        "Description: The courier left the parcel in the rain",
        "When it happened: Nov 22, 2026",
        "Files: 1 file",
        "Contact phone: +447700900123",
        "",
        "Everything right? Press Submit, or a field to change it.",
    ]
    await desk.press(ANNA, "✅ Submit")
    receipt = desk.last_text(ANNA)
    assert "Your complaint is registered." in receipt
    assert "Number: C-000001" in receipt
    assert "Registered: Nov 23, 2026, 12:30" in receipt  # 09:30 UTC shown in Moscow time
    assert "Expect the first answer by: Nov 24, 2026, 12:30" in receipt
    assert desk.buttons(ANNA) == ["📋 My tickets", "➕ Add details"]

    [ticket] = await _tickets(desk)
    assert ticket.number == "C-000001"
    assert ticket.category == "delivery"
    assert ticket.fields == {"order_number": "12345678"}
    assert ticket.description == "The courier left the parcel in the rain"
    assert ticket.incident_date == date(2026, 11, 22)
    assert ticket.contact_phone == "+447700900123"
    assert ticket.status == "new"
    async with desk.database.unit_of_work() as uow:
        attachments = await uow.attachments.for_ticket(ticket_id=ticket.id or 0)
        events = await uow.events.for_ticket(ticket_id=ticket.id or 0)
    assert [a.kind for a in attachments] == ["photo"]
    assert [(e.from_status, e.to_status) for e in events] == [(None, "new")]


async def test_whole_form_in_russian(desk: Desk) -> None:
    await desk.command(IVAN, "start")
    assert desk.last_text(IVAN).startswith("Здравствуйте, Иван!")
    await desk.press(IVAN, "📝 Подать жалобу")
    await desk.press(IVAN, "Обслуживание и персонал")
    assert desk.last_text(IVAN).startswith("Опишите, что произошло")
    await desk.say(IVAN, "Сотрудник в пункте выдачи был груб")
    await desk.say(IVAN, "20.11.2026")
    await desk.press(IVAN, "Пропустить")
    await desk.say(IVAN, "Пропустить")
    summary = desk.last_text(IVAN)
    assert "Категория: Обслуживание и персонал" in summary
    assert "Когда это произошло: 20.11.2026" in summary
    assert "Телефон для связи: не указан" in summary
    await desk.press(IVAN, "✅ Отправить")
    receipt = desk.last_text(IVAN)
    assert "Ваша жалоба зарегистрирована." in receipt
    assert "Номер: C-000001" in receipt
    assert desk.buttons(IVAN) == ["📋 Мои обращения", "➕ Дополнить"]


async def test_editing_a_field_from_the_summary(desk: Desk) -> None:
    await fill_delivery_form_en(desk)
    await desk.press(ANNA, "✏️ Description")
    assert desk.last_text(ANNA).startswith("Describe what happened")
    await desk.say(ANNA, "The parcel was soaked and the box torn")
    summary = desk.last_text(ANNA)
    assert "Description: The parcel was soaked and the box torn" in summary
    assert "Order number: 12345678" in summary
    await desk.press(ANNA, "✏️ Category")
    await desk.press(ANNA, "Website or app")
    assert desk.last_text(ANNA) == "Where did it happen?"  # the new category's own field
    await desk.press(ANNA, "Android")
    summary = desk.last_text(ANNA)
    assert "Category: Website or app" in summary
    assert "Where it happened: Android" in summary
    assert "Order number" not in summary  # the old category's field is gone
    await desk.press(ANNA, "✅ Submit")
    [ticket] = await _tickets(desk)
    assert ticket.category == "website"
    assert ticket.fields == {"platform": "android"}


async def test_back_and_cancel(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Other")
    await desk.say(ANNA, "Something odd happened with my account")
    await desk.press(ANNA, "⬅️ Back")
    assert desk.last_text(ANNA).startswith("Describe what happened")
    await desk.press(ANNA, "⬅️ Back")
    assert desk.last_text(ANNA) == "What is your complaint about?"
    await desk.press(ANNA, "✖️ Cancel")
    assert "The complaint form is cancelled. Nothing was sent." in desk.texts(ANNA)
    assert desk.last_text(ANNA) == "What would you like to do?"
    assert await _tickets(desk) == []
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Other")
    await desk.command(ANNA, "cancel")
    assert "The complaint form is cancelled. Nothing was sent." in desk.texts(ANNA)
    await desk.command(ANNA, "cancel")
    assert desk.last_text(ANNA) == "There is nothing to cancel."


async def test_back_from_the_contact_keyboard(desk: Desk) -> None:
    await fill_delivery_form_en(desk)  # ends at the summary
    await desk.press(ANNA, "✏️ Contact phone")
    await desk.say(ANNA, "⬅️ Back")
    assert desk.last_text(ANNA).startswith("Send photos, receipts")


async def test_a_bad_date_is_explained_with_an_example(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Other")
    await desk.say(ANNA, "Something odd happened with my account")
    await desk.say(ANNA, "31.02.2026")
    assert desk.last_text(ANNA).startswith("I could not read that date. Please type it like")
    assert desk.last_text(ANNA).endswith("Choose or type a date like 21.11.2026.")
    await desk.say(ANNA, "01.12.2026")
    assert desk.last_text(ANNA).startswith("That date is in the future.")
    await desk.press(ANNA, "Other date")
    assert desk.last_text(ANNA) == "Type the date as dd.mm.yyyy, for example 23.11.2026."
    await desk.say(ANNA, "2026-11-20")
    assert desk.last_text(ANNA).startswith("Send photos, receipts")


async def test_description_too_short_and_too_long(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Other")
    await desk.say(ANNA, "Bad")
    assert desk.last_text(ANNA).startswith("That is a bit short (3 characters).")
    await desk.say(ANNA, "x" * 4001)
    assert desk.last_text(ANNA).startswith(
        "That is too long: 4001 characters, the limit is 4000 characters."
    )
    await desk.say(ANNA, "x" * 4000)
    assert desk.last_text(ANNA).startswith("When did it happen?")


async def test_wrong_kind_of_input_gets_the_question_again(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.say(ANNA, "just text")
    assert desk.last_text(ANNA) == (
        "Please choose a category with the buttons below.\n\nWhat is your complaint about?"
    )
    await desk.say(ANNA, "delivery")  # typing a button's label works too
    assert desk.last_text(ANNA) == "What is the order number (e.g. 12345678)?"
    await desk.say(ANNA, "no!")
    assert desk.last_text(ANNA).startswith(
        "That does not look right. An order number is 4 to 20 digits"
    )
    await desk.say(ANNA, "12345678")
    await desk.feed(desk.updates.sticker(ANNA))
    assert desk.last_text(ANNA).startswith("I need text here, please write it in a message.")
    await desk.say(ANNA, "Still waiting for my parcel after two weeks")
    await desk.press(ANNA, "Today")
    await desk.say(ANNA, "here you go")
    assert desk.last_text(ANNA).startswith("Please send a photo, document or video")


async def test_an_album_is_kept_whole(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Product quality")
    await desk.say(ANNA, "A1B2C3D4")
    await desk.say(ANNA, "The kettle leaks from the bottom seam")
    await desk.press(ANNA, "Today")
    await desk.feed(*desk.updates.album(ANNA, ["photo", "photo", "document"]))
    acknowledgements = [t for t in desk.texts(ANNA) if t.startswith("Received.")]
    assert len(acknowledgements) == 1  # one per album, not one per file
    assert "✅ Done (3)" in desk.buttons(ANNA)
    await desk.press(ANNA, "✅ Done (3)")
    await desk.say(ANNA, "Skip")
    assert "Files: 3 files" in desk.last_text(ANNA)
    await desk.press(ANNA, "✅ Submit")
    [ticket] = await _tickets(desk)
    async with desk.database.unit_of_work() as uow:
        attachments = await uow.attachments.for_ticket(ticket_id=ticket.id or 0)
    assert [a.kind for a in attachments] == ["photo", "photo", "document"]
    assert len({a.media_group_id for a in attachments}) == 1


async def test_more_than_ten_files_are_refused_politely(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Other")
    await desk.say(ANNA, "Many receipts to show you here")
    await desk.press(ANNA, "Today")
    for _ in range(10):
        await desk.feed(desk.updates.photo(ANNA))
    await desk.feed(desk.updates.photo(ANNA))
    assert desk.last_text(ANNA).startswith("You can attach up to 10 files here.")
    assert "✅ Done (10)" in desk.buttons(ANNA)


async def test_a_restart_in_the_middle_of_the_form_carries_on(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Delivery")
    await desk.say(ANNA, "12345678")
    desk.restart()  # new dispatcher and bot over the same database
    await desk.say(ANNA, "The courier never came to my door")
    assert desk.last_text(ANNA).startswith("When did it happen?")
    await desk.press(ANNA, "Today")
    await desk.press(ANNA, "Skip")
    await desk.say(ANNA, "Skip")
    await desk.press(ANNA, "✅ Submit")
    [ticket] = await _tickets(desk)
    assert ticket.fields == {"order_number": "12345678"}
    assert ticket.description == "The courier never came to my door"


async def test_two_customers_filling_forms_interleaved(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.command(IVAN, "complaint")
    await desk.press(ANNA, "Other")
    await desk.press(IVAN, "Доставка")
    await desk.say(ANNA, "Anna's problem description here")
    await desk.say(IVAN, "87654321")
    await desk.say(IVAN, "Курьер опоздал на три часа")
    await desk.press(ANNA, "Today")
    await desk.press(IVAN, "Вчера")
    await asyncio.gather(desk.press(ANNA, "Skip"), desk.press(IVAN, "Пропустить"))
    await desk.say(IVAN, "Пропустить")
    await desk.say(ANNA, "Skip")
    await desk.press(IVAN, "✅ Отправить")
    await desk.press(ANNA, "✅ Submit")
    tickets = await _tickets(desk)
    by_description = {t.description: t for t in tickets}
    assert by_description["Курьер опоздал на три часа"].number == "C-000001"
    assert by_description["Курьер опоздал на три часа"].fields == {"order_number": "87654321"}
    assert by_description["Anna's problem description here"].number == "C-000002"
    assert by_description["Anna's problem description here"].category == "other"


async def test_stale_buttons_are_answered_not_obeyed(desk: Desk) -> None:
    await fill_delivery_form_en(desk)
    await desk.press(ANNA, "✅ Submit")
    await desk.press(ANNA, "✅ Submit")  # the same summary button again
    answers = desk.fake.calls_of("answerCallbackQuery")
    assert answers[-1].params.get("text") == (
        "This form is already closed. Use /complaint to start a new one."
    )
    assert len(await _tickets(desk)) == 1


async def test_customer_text_is_escaped_in_the_summary(desk: Desk) -> None:
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Other")
    await desk.say(ANNA, "<b>bold</b> and </i> broken & tags")
    await desk.press(ANNA, "Today")
    await desk.press(ANNA, "Skip")
    await desk.say(ANNA, "Skip")
    assert "Description: <b>bold</b> and </i> broken & tags" in desk.last_text(ANNA)


async def test_profile_and_language_are_stored(desk: Desk) -> None:
    await desk.command(IVAN, "start")
    async with desk.database.unit_of_work() as uow:
        customer = (await uow.session.exec(select(Customer))).one()
        events = (await uow.session.exec(select(TicketEvent))).all()
        attachments = (await uow.session.exec(select(Attachment))).all()
    assert (customer.telegram_id, customer.locale, customer.username) == (1002, "ru", "ivan")
    assert (customer.first_name, customer.last_name) == ("Иван", "Петров")
    assert events == []
    assert attachments == []
