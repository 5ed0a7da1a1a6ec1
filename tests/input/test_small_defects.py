"""The smaller defects seen from outside (issue 10, item 10): one test each."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import FrozenClock
from bot.domain.tickets import TicketStatus
from storage.unit_of_work import Database
from tests.harness import Desk
from tests.sla import helpers as sla
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_ticket, ticket
from tests.texts import project_catalogs


async def test_status_resolved_asks_for_the_decision(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/status resolved", thread_id=topic))
    prompt = desk.fake.sent_to(STAFF, thread_id=topic)[-1]
    assert "Какое решение" in (prompt.text or "")
    await desk.press(ANNA, "возврат денег", chat_id=STAFF)
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "Money is back on your card", thread_id=topic)
    )
    await deliver(desk)
    resolved = await ticket(desk, opened.id or 0)
    assert (resolved.status, resolved.resolution_type) == ("resolved", "refund")
    assert "Money is back on your card" in desk.last_text(IVAN)


def test_usage_of_status_names_what_the_readme_lists() -> None:
    catalogs = project_catalogs()
    for locale in ("en", "ru"):
        usage = catalogs.plain("desk.usage.status", locale)
        assert "in_progress|waiting_customer|resolved" in usage


async def test_auto_close_after_one_day_speaks_good_english(
    database: Database, clock: FrozenClock
) -> None:
    customer_id = await sla.add_customer(database, clock, telegram_id=4343, locale="en")
    opened = await sla.open_ticket(database, clock, customer_id)
    await sla.respond(database, clock, opened.id or 0)
    await sla.move(database, clock, opened.id or 0, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED)
    sweeps = sla.make_sweeps(database, clock, auto_close_after=timedelta(days=1))
    clock.advance(timedelta(days=1))
    assert (await sweeps.run_once()).auto_closed == 1
    rows = [row for row in await sla.outbox(database) if row.key.startswith("auto-close")]
    texts = sorted(row.payload["html"] for row in rows)
    assert all("for 1 day " in text for text in texts), texts
    assert not any("1 days" in text for text in texts)


def test_plural_forms_in_both_languages() -> None:
    catalogs = project_catalogs()
    assert [catalogs.count("count.days", "en", n) for n in (1, 2, 7)] == [
        "1 day",
        "2 days",
        "7 days",
    ]
    assert [catalogs.count("count.days", "ru", n) for n in (1, 3, 5, 21)] == [
        "1 день",
        "3 дня",
        "5 дней",
        "21 день",
    ]


async def test_the_summary_counts_files_in_good_english(desk: Desk) -> None:
    await desk.command(IVAN, "complaint")
    await desk.press(IVAN, "Service and staff")
    await desk.say(IVAN, "The courier was rude to me")
    await desk.press(IVAN, "Yesterday")
    await desk.feed(desk.updates.photo(IVAN))
    await desk.press(IVAN, "✅ Done (1)")
    await desk.say(IVAN, "Skip")
    assert "Files: 1 file\n" in desk.last_text(IVAN)


async def test_an_edited_customer_message_keeps_plain_text_in_the_history(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    original = desk.updates.text(IVAN, "The parcel is wet")
    assert original.message is not None
    await desk.feed(original)
    await deliver(desk)
    edited = desk.updates.update(
        edited_message={
            **original.message.model_dump(mode="json", exclude_none=True),
            "text": "The parcel is wet & <cold>",
            "entities": [{"type": "bold", "offset": 0, "length": 10}],
            "edit_date": int(desk.clock.now().timestamp()),
        }
    )
    await desk.feed(edited)
    async with desk.database.unit_of_work() as uow:
        messages = await uow.messages.for_ticket(ticket_id=opened.id or 0)
    texts = [m.text for m in messages if m.direction == "in"]
    assert "The parcel is wet & <cold>" in texts
    assert not any("<b>" in (text or "") for text in texts)


async def test_a_reopened_card_no_longer_shows_the_old_decision(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "/resolve refund Money returned", thread_id=topic)
    )
    await deliver(desk)
    card_id = (await ticket(desk, opened.id or 0)).card_message_id or 0
    card = desk.fake.message(STAFF, card_id)
    assert card is not None and "Решение: возврат денег — Money returned" in (card.text or "")

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/reopen", thread_id=topic))
    await deliver(desk)
    assert (await ticket(desk, opened.id or 0)).status == "reopened"
    card = desk.fake.message(STAFF, card_id)
    assert card is not None and "Решение:" not in (card.text or "")
    await desk.command(IVAN, "tickets")
    await desk.press(IVAN, "Open C-000001")
    assert "Money returned" not in desk.last_text(IVAN)


async def test_a_good_rating_closes_the_ticket_and_tells_the_customer(
    tmp_path, clock: FrozenClock
) -> None:
    from tests.harness import running_desk
    from tests.sla.desk_helpers import resolved_ticket, sweep_and_deliver
    from tests.telegram_fake import TelegramUser

    customer = TelegramUser(3001, "Anna", language_code="en")
    async with running_desk(tmp_path, clock, survey_delay_minutes=30) as desk:
        opened = await resolved_ticket(desk, customer)
        clock.advance(timedelta(minutes=30))
        await sweep_and_deliver(desk)
        await desk.press(customer, "3")
        assert (await sla.ticket(desk.database, opened.id or 0)).status == "closed"
        assert f"Ticket {opened.number} is now closed" in desk.last_text(customer)


async def test_ask_a_question_with_a_ticket_open_tries_the_knowledge_base(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    await desk.command(IVAN, "menu")
    await desk.press(IVAN, "❓ Ask a question")
    await desk.say(IVAN, "how long does delivery take")
    assert desk.last_text(IVAN).startswith("Orders are usually delivered in 2-5 working days")
    async with desk.database.unit_of_work() as uow:
        on_ticket = await uow.messages.for_ticket(ticket_id=opened.id or 0)
        loose = await uow.messages.for_customer_without_ticket(customer_id=opened.customer_id)
    assert not any(m.text == "how long does delivery take" for m in on_ticket)
    assert [m.text for m in loose] == ["how long does delivery take"]  # stored all the same

    # A question the knowledge base cannot answer goes on to the open ticket, and says so.
    await desk.press(IVAN, "❓ Ask a question")
    await desk.say(IVAN, "zqxv wplk frobnicate")
    assert "added your question to your ticket C-000001" in desk.last_text(IVAN)
    async with desk.database.unit_of_work() as uow:
        on_ticket = await uow.messages.for_ticket(ticket_id=opened.id or 0)
    assert any(m.text == "zqxv wplk frobnicate" for m in on_ticket)
    # Afterwards a message is a message to the ticket again.
    await desk.say(IVAN, "how long does delivery take")
    assert not desk.last_text(IVAN).startswith("Orders are usually delivered")


async def _agent(database: Database, clock: FrozenClock, telegram_id: int, name: str) -> None:
    from storage.staff_models import Agent

    async with database.unit_of_work() as uow:
        await uow.agents.save(
            agent=Agent(telegram_id=telegram_id, display_name=name, updated_at=clock.now())
        )


async def test_the_sla_warning_names_the_agent_and_reaches_them_privately(
    database: Database, clock: FrozenClock
) -> None:
    await _agent(database, clock, 321, "Anna Agent")
    customer_id = await sla.add_customer(database, clock)
    opened = await sla.open_ticket(database, clock, customer_id, priority="urgent", assignee_id=321)
    sweeps = sla.make_sweeps(database, clock, staff_chat_id=-1001234567890)
    clock.advance(timedelta(minutes=45))
    await sweeps.run_once()
    rows = {row.chat_id: row for row in await sla.outbox(database)}
    in_topic = rows[-1001234567890].payload["html"]
    assert 'Assignee: <a href="tg://user?id=321">Anna Agent</a>' in in_topic
    private = rows[321].payload["html"]
    assert opened.number in private and "75%" in private
    assert '<a href="https://t.me/c/1234567890/55">Open the topic of C-000001</a>' in private


async def test_the_escalation_digest_is_complete_and_in_each_recipients_language(
    database: Database, clock: FrozenClock
) -> None:
    await _agent(database, clock, 321, "Anna Agent")
    customer_id = await sla.add_customer(database, clock)  # "Ivan", English
    supervisor_ru = await sla.add_customer(database, clock, telegram_id=777, locale="ru")
    assert supervisor_ru
    await sla.open_ticket(database, clock, customer_id, priority="urgent", assignee_id=321)
    sweeps = sla.make_sweeps(
        database, clock, staff_chat_id=-1001234567890, supervisor_ids=(777, 778)
    )
    clock.advance(timedelta(hours=1))
    await sweeps.run_once()
    digests = {
        row.chat_id: row.payload["html"]
        for row in await sla.outbox(database)
        if row.key.startswith("sla-escalate")
    }
    assert set(digests) == {777, 778, -1001234567890}
    assert 'исполнитель: <a href="tg://user?id=321">Anna Agent</a>' in digests[777]
    assert "клиент: Ivan" in digests[777]
    assert '<a href="https://t.me/c/1234567890/55">C-000001</a>' in digests[777]
    for english in (digests[778], digests[-1001234567890]):  # the desk speaks English here
        assert "First-response target missed" in english
        assert 'agent: <a href="tg://user?id=321">Anna Agent</a> · customer: Ivan' in english


async def test_a_breached_ticket_is_marked_overdue_on_card_and_topic(desk: Desk) -> None:
    from tests.sla.desk_helpers import runner

    opened = await open_ticket(desk, IVAN, priority="urgent")
    await deliver(desk)
    current = await ticket(desk, opened.id or 0)
    topic, card_id = current.topic_id or 0, current.card_message_id or 0
    assert desk.fake.topics(STAFF)[topic].startswith("🆕 C-000001")

    desk.clock.advance(timedelta(hours=1))
    await runner(desk).tick()
    await deliver(desk)
    assert desk.fake.topics(STAFF)[topic].startswith("🆕⏰ C-000001")
    card = desk.fake.message(STAFF, card_id)
    assert card is not None and (card.text or "").startswith("🆕⏰ C-000001")

    # Answered: the first response is no longer overdue.
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "On it", thread_id=topic))
    await deliver(desk)
    assert desk.fake.topics(STAFF)[topic].startswith("🔧 C-000001")


async def test_my_tickets_shows_due_times_and_overdue(desk: Desk) -> None:
    await open_ticket(desk, IVAN)  # normal priority: first answer within 24 hours
    await desk.command(IVAN, "tickets")
    listing = desk.last_text(IVAN)
    assert "C-000001" in listing and "expect by Nov 24, 2026, 12:30" in listing
    desk.clock.advance(timedelta(hours=25))
    await desk.command(IVAN, "tickets")
    listing = desk.last_text(IVAN)
    assert "overdue" in listing and "expect by" not in listing
    await desk.press(IVAN, "Open C-000001")
    view = desk.last_text(IVAN)
    assert "The first answer is overdue (was due Nov 24, 2026, 12:30)" in view
    assert "Expect the first answer by" not in view


async def test_a_group_without_topics_is_detected_with_get_chat(tmp_path, clock) -> None:
    from tests.staff.conftest import open_desk

    async with open_desk(tmp_path, clock) as desk:
        desk.fake.set_forum(STAFF, False)
        first = await open_ticket(desk, IVAN)
        second = await open_ticket(desk, IVAN, description="Another parcel is missing")
        await deliver(desk)
        assert desk.fake.calls_of("createForumTopic") == []
        assert len(desk.fake.calls_of("getChat")) == 1
        for opened in (first, second):
            current = await ticket(desk, opened.id or 0)
            assert current.topic_id is None and current.card_message_id is not None

        # Topics turned on later take effect without a restart.
        desk.fake.set_forum(STAFF, True)
        desk.clock.advance(timedelta(minutes=11))
        third = await open_ticket(desk, IVAN, description="A third problem, with topics now")
        await deliver(desk)
        assert (await ticket(desk, third.id or 0)).topic_id is not None
