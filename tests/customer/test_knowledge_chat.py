"""Questions answered from the knowledge base in the chat: answer, suggest, none, Yes / No, /faq."""

from __future__ import annotations

from sqlmodel import col, select

from storage.kb_models import KbQuery
from storage.models import Ticket
from tests.harness import Desk
from tests.telegram_fake import TelegramUser

ANNA = TelegramUser(3001, "Anna", language_code="en")
OLGA = TelegramUser(3002, "Ольга", language_code="ru")


async def _queries(desk: Desk) -> list[KbQuery]:
    async with desk.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(KbQuery).order_by(col(KbQuery.id)))).all())


async def test_a_known_question_is_answered_and_yes_is_recorded(desk: Desk) -> None:
    await desk.say(ANNA, "how long does delivery take")
    article = desk.last_text(ANNA)
    assert article.startswith("Orders are usually delivered in 2-5 working days")
    assert article.endswith("Did this help?")
    assert desk.buttons(ANNA) == ["👍 Yes", "👎 No"]
    bold = [e for e in desk.fake.last_sent(ANNA.id).entities or [] if e.type == "bold"]
    assert bold, "the article's own HTML is kept"
    await desk.press(ANNA, "👍 Yes")
    assert desk.last_text(ANNA) == "Glad it helped! Write any time if you have another question."
    [query] = await _queries(desk)
    assert (query.decision, query.entry_id, query.helpful) == ("answer", "delivery-time", True)


async def test_russian_colloquial_question(desk: Desk) -> None:
    await desk.say(OLGA, "скока идет доставка")
    assert desk.last_text(OLGA).endswith("Это помогло?")
    assert desk.buttons(OLGA) == ["👍 Да", "👎 Нет"]


async def test_a_vague_question_gets_suggestions(desk: Desk) -> None:
    await desk.say(OLGA, "доставка")
    assert desk.last_text(OLGA) == "Я нашёл несколько подходящих ответов. Какой вопрос ваш?"
    buttons = desk.buttons(OLGA)
    assert "Сколько идет доставка?" in buttons
    assert buttons[-1] == "Ничего из этого"
    assert len(buttons) <= 4
    await desk.press(OLGA, "Сколько идет доставка?")
    assert desk.last_text(OLGA).endswith("Это помогло?")
    [query] = await _queries(desk)
    assert (query.decision, query.entry_id) == ("suggest", "delivery-time")


async def test_no_offers_a_complaint_or_a_person_and_carries_the_question(desk: Desk) -> None:
    await desk.say(ANNA, "can I pay by card")
    await desk.press(ANNA, "👎 No")
    assert desk.last_text(ANNA).startswith("Sorry it did not help. Your question is saved")
    assert desk.buttons(ANNA) == ["📝 File a complaint", "🙋 Talk to a person"]
    [query] = await _queries(desk)
    assert query.helpful is False
    await desk.press(ANNA, "🙋 Talk to a person")
    async with desk.database.unit_of_work() as uow:
        ticket = (await uow.session.exec(select(Ticket))).one()
    assert ticket.kind == "question"
    assert ticket.description == "can I pay by card"


async def test_off_topic_is_not_answered_with_an_article(desk: Desk) -> None:
    await desk.say(ANNA, "hello")
    assert desk.last_text(ANNA).startswith("I don't have a ready answer to that.")
    assert desk.buttons(ANNA) == ["📝 File a complaint", "🙋 Talk to a person"]
    [query] = await _queries(desk)
    assert query.decision == "none"


async def test_faq_browsing_by_topic(desk: Desk) -> None:
    await desk.command(ANNA, "faq")
    assert desk.last_text(ANNA) == "Frequently asked questions\nChoose a topic:"
    topics = desk.buttons(ANNA)
    assert {"Delivery", "Payment", "Returns", "Privacy"} <= set(topics)
    await desk.press(ANNA, "Payment")
    listing = desk.last_text(ANNA)
    assert listing.startswith("Payment (page 1 of ")
    questions = desk.buttons(ANNA)
    assert "How can I pay?" in questions
    assert questions[-1] == "📚 All topics"
    if "Next ➡️" in questions:
        await desk.press(ANNA, "Next ➡️")
        assert "⬅️ Previous" in desk.buttons(ANNA)
        await desk.press(ANNA, "⬅️ Previous")
    await desk.press(ANNA, "How can I pay?")
    assert desk.buttons(ANNA) == ["⬅️ Payment"]
    await desk.press(ANNA, "⬅️ Payment")
    assert desk.last_text(ANNA).startswith("Payment (page 1 of ")
    await desk.press(ANNA, "📚 All topics")
    assert desk.last_text(ANNA) == "Frequently asked questions\nChoose a topic:"


async def test_feedback_on_someone_elses_question_is_refused(desk: Desk) -> None:
    await desk.say(ANNA, "how long does delivery take")
    [query] = await _queries(desk)
    await desk.command(OLGA, "start")
    forged = desk.updates.callback(
        OLGA, f"kb:yes:{query.id}:", message=desk.fake.last_sent(OLGA.id)
    )
    await desk.feed(forged)
    answer = desk.fake.calls_of("answerCallbackQuery")[-1]
    assert answer.params["text"] == "Этот ответ больше недоступен. Пожалуйста, спросите ещё раз."
    assert (await _queries(desk))[0].helpful is None


async def test_a_complaint_after_no_starts_with_the_question_as_description(desk: Desk) -> None:
    await desk.say(ANNA, "my parcel came soaked and the box was torn")
    assert desk.buttons(ANNA)[0] == "📝 File a complaint"
    await desk.press(ANNA, "📝 File a complaint")
    assert desk.last_text(ANNA) == "What is your complaint about?"
    await desk.press(ANNA, "Other")
    assert desk.last_text(ANNA).startswith("When did it happen?")  # description not asked again
    await desk.press(ANNA, "Today")
    await desk.press(ANNA, "Skip")
    await desk.say(ANNA, "Skip")
    assert "Description: my parcel came soaked and the box was torn" in desk.last_text(ANNA)
    await desk.press(ANNA, "✅ Submit")
    async with desk.database.unit_of_work() as uow:
        ticket = (await uow.session.exec(select(Ticket))).one()
    assert ticket.description == "my parcel came soaked and the box was torn"
    [query] = await _queries(desk)
    assert query.ticket_id == ticket.id
