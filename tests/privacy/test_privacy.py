"""/privacy, /mydata and /deletemydata through the dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.domain.clock import FrozenClock
from storage.models import Customer
from storage.privacy_models import PrivacyEvent
from tests.harness import Desk
from tests.privacy.helpers import file_ids_of, seed, statistics, where_stored
from tests.staff.conftest import ANNA, STAFF, deliver, open_desk, start, ticket
from tests.telegram_fake import TelegramUser

ZOE = TelegramUser(5001, "Zinovia", "Quartzfeld", "zq_private", "en")
OLLY = TelegramUser(5002, "Olympia", "Brightwater", "olly_other", "en")
MOSCOW = ZoneInfo("Europe/Moscow")  # the desk's time zone in these tests


def _shown(desk: Desk, user: TelegramUser) -> str:
    """The last message in the chat as the user sees it now (after edits)."""
    last = desk.fake.last_sent(user.id)
    current = desk.fake.message(user.id, last.message_id) or last
    return current.text or ""


def _documents(desk: Desk, user: TelegramUser) -> dict[str, bytes]:
    found = {}
    for call in desk.fake.calls_of("sendDocument"):
        if call.params["chat_id"] == user.id and call.ok:
            [upload] = call.files.values()
            found[upload.filename or ""] = upload.data  # type: ignore[attr-defined]
    return found


async def test_privacy_shows_the_policy_in_the_customers_language(desk: Desk) -> None:
    desk.fake.add_user(ZOE)
    await desk.command(ZOE, "privacy")
    text = desk.last_text(ZOE)
    assert text.startswith("Privacy policy")
    assert "/mydata" in text and "/deletemydata" in text
    assert "Your data is kept until you ask to erase it." in text
    russian = TelegramUser(5003, "Вера", language_code="ru")
    await desk.command(russian, "privacy")
    assert desk.last_text(russian).startswith("Политика конфиденциальности")


async def test_a_policy_file_per_language_and_the_retention_period(
    tmp_path: Path, clock: FrozenClock
) -> None:
    for locale in ("en", "ru"):
        (tmp_path / f"policy.{locale}.html").write_text(
            f"<b>{locale} policy of {{company}}</b>\n{{retention}}", encoding="utf-8"
        )
    async with open_desk(
        tmp_path,
        clock,
        privacy_policy_file=str(tmp_path / "policy.{locale}.html"),
        company_name="Acme & Co",
        retention_days="90",
    ) as desk:
        await desk.command(ZOE, "privacy")
        assert desk.last_text(ZOE) == (
            "en policy of Acme & Co\nTickets are anonymised 90 days after they are closed; "
            "your profile is kept until you ask to erase it."
        )


async def test_mydata_sends_everything_stored_about_the_customer_and_nothing_else(
    any_desk: Desk,
) -> None:
    desk = any_desk
    zoe = await seed(desk, ZOE, "zoe")
    olly = await seed(desk, OLLY, "olly")

    await desk.command(ZOE, "mydata")
    files = _documents(desk, ZOE)
    assert sorted(files) == ["my-data.json", "my-data.txt"]
    raw = files["my-data.json"].decode()
    readable = files["my-data.txt"].decode()
    data = json.loads(raw)
    for value in zoe.values:
        assert value in raw, value
        assert value in readable, value
    for file_id in await file_ids_of(desk, zoe.customer_id):
        assert file_id in raw and file_id in readable
    for value in olly.values + await file_ids_of(desk, olly.customer_id):
        assert value not in raw and value not in readable, value
    assert data["profile"]["telegram_id"] == ZOE.id
    assert [t["number"] for t in data["tickets"]] == ["C-000001", "C-000002"]
    first = data["tickets"][0]
    assert (first["rating"], first["decision"], first["status"]) == (4, "refund", "closed")
    assert [f["file_name"] for f in first["attachments"]] == [None, "zoe-receipt.pdf"]
    captions = [m for m in first["messages"] if m["text"] == "zoe photo caption"]
    assert captions[0]["attachments"][0]["kind"] == "photo"
    assert [q["text"] for q in data["knowledge_base_questions"]] == [
        "zoe how long does delivery take"
    ]
    assert "Ticket C-000001" in readable and "Rating: 4" in readable
    captions_sent = [
        c.params["caption"]
        for c in desk.fake.calls_of("sendDocument")
        if c.ok and c.params["chat_id"] == ZOE.id
    ]
    assert captions_sent[0].startswith("📦 Everything this desk stores about you")

    # At most once an hour.
    await desk.command(ZOE, "mydata")
    assert desk.last_text(ZOE).startswith("You can get a copy of your data once an hour.")
    assert len(_documents(desk, ZOE)) == 2
    desk.clock.advance(timedelta(minutes=61))
    sent_before = len(desk.fake.calls_of("sendDocument"))
    await desk.command(ZOE, "mydata")
    assert len(desk.fake.calls_of("sendDocument")) == sent_before + 2
    async with desk.database.unit_of_work() as uow:
        exports = (await uow.session.exec(_events("export"))).all()
    assert [(e.customer_id, e.counts["tickets"]) for e in exports] == [(zoe.customer_id, 2)] * 2


def _events(kind: str) -> SelectOfScalar[PrivacyEvent]:
    return select(PrivacyEvent).where(PrivacyEvent.kind == kind).order_by(col(PrivacyEvent.id))


async def test_deletemydata_erases_everything_personal_and_keeps_the_figures(
    any_desk: Desk,
) -> None:
    desk = any_desk
    zoe = await seed(desk, ZOE, "zoe")
    olly = await seed(desk, OLLY, "olly")
    assert {v for _, _, v in await where_stored(desk, zoe.values)} == set(zoe.values)
    closed_before = await statistics(desk, zoe.closed_ticket)
    open_before = await statistics(desk, zoe.open_ticket)
    zoe_files = await file_ids_of(desk, zoe.customer_id)

    await desk.command(ZOE, "deletemydata")
    assert desk.last_text(ZOE).startswith("Erase your personal data?")
    assert desk.buttons(ZOE) == ["Continue", "Cancel"]
    await desk.press(ZOE, "Continue")
    assert _shown(desk, ZOE).startswith("Last step.")
    assert desk.buttons(ZOE) == ["🗑 Yes, erase my data", "Cancel"]
    await desk.press(ZOE, "🗑 Yes, erase my data")
    assert _shown(desk, ZOE) == (
        "✅ Your personal data is erased. Tickets closed: C-000002.\n"
        "If you write again, the desk will see you as a new customer."
    )
    erased_at = desk.clock.now()
    await deliver(desk)  # may move the clock on past pacing

    # Nothing personal is left in any text column of any table ...
    assert await where_stored(desk, zoe.values + zoe_files) == []
    async with desk.database.unit_of_work() as uow:
        assert await uow.customers.by_telegram_id(telegram_id=ZOE.id) is None
        [erasure] = (await uow.session.exec(_events("erase"))).all()
    assert erasure.actor_kind == "customer" and erasure.actor_id is None
    assert erasure.counts["tickets"] == 2 and erasure.counts["tickets_closed"] == 1
    assert erasure.counts["messages"] >= 6 and erasure.counts["attachments"] == 4
    # ... the other customer keeps everything ...
    assert {v for _, _, v in await where_stored(desk, olly.values)} == set(olly.values)
    # ... and the figures reports are built from are unchanged.
    closed_after = await statistics(desk, zoe.closed_ticket)
    assert closed_after["events"][: len(closed_before["events"])] == closed_before["events"]
    assert [e[1] for e in closed_after["events"][len(closed_before["events"]) :]] == ["erased"]
    assert {k: v for k, v in closed_after.items() if k != "events"} == {
        k: v for k, v in closed_before.items() if k != "events"
    }
    open_after = await statistics(desk, zoe.open_ticket)
    for name in ("number", "category", "priority", "created_at"):
        assert open_after[name] == open_before[name]
    assert open_after["closed_at"] == erased_at
    assert [e[1:] for e in open_after["events"][len(open_before["events"]) :]] == [
        ("status", erased_at, "new", "closed"),
        ("erased", erased_at, None, None),
    ]
    # The staff are told in the open ticket's topic, and both topics lose the name.
    assert desk.fake.texts_to(STAFF, thread_id=zoe.topics[1])[-1] == (
        "🔒 C-000002 закрыто: клиент попросил удалить свои персональные данные."
    )
    for ticket_id in (zoe.closed_ticket, zoe.open_ticket):
        card_id = (await ticket(desk, ticket_id)).card_message_id
        assert card_id is not None
        card = desk.fake.message(STAFF, card_id)
        assert card is not None and card.text is not None
        assert not [v for v in zoe.values if v in card.text], card.text
    names = desk.fake.topics(STAFF)
    assert [names[topic] for topic in zoe.topics] == [
        "🔒 C-000001 · Доставка · —",
        "🔒 C-000002 · Качество товара · —",
    ]

    # The bot works for the same person as for a new customer.
    await desk.command(ZOE, "start")
    assert desk.last_text(ZOE).startswith("Hello, Zinovia!")
    new_id = await start(desk, ZOE)
    assert new_id != zoe.customer_id
    await desk.command(ZOE, "tickets")
    assert desk.last_text(ZOE) == "You have no tickets yet."
    async with desk.database.unit_of_work() as uow:
        erased = await uow.session.get(Customer, zoe.customer_id)
        assert erased is not None and erased.telegram_id < 0 and erased.first_name == "—"


async def test_cancel_at_either_step_erases_nothing(desk: Desk) -> None:
    zoe = await seed(desk, ZOE, "zoe")
    await desk.command(ZOE, "deletemydata")
    await desk.press(ZOE, "Cancel")
    assert _shown(desk, ZOE) == "Nothing was erased."
    await desk.command(ZOE, "deletemydata")
    await desk.press(ZOE, "Continue")
    await desk.press(ZOE, "Cancel")
    assert _shown(desk, ZOE) == "Nothing was erased."
    assert {v for _, _, v in await where_stored(desk, zoe.values)} == set(zoe.values)


async def test_a_banned_customer_keeps_the_right_to_a_copy_and_to_erasure(desk: Desk) -> None:
    zoe = await seed(desk, ZOE, "zoe")
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/ban", thread_id=zoe.topics[1]))
    await desk.say(ZOE, "zoe still here")  # stored, not relayed: the ban works
    await desk.command(ZOE, "mydata")
    assert sorted(_documents(desk, ZOE)) == ["my-data.json", "my-data.txt"]
    await desk.command(ZOE, "deletemydata")
    await desk.press(ZOE, "Continue")
    await desk.press(ZOE, "🗑 Yes, erase my data")
    assert _shown(desk, ZOE).startswith("✅ Your personal data is erased.")
    assert await where_stored(desk, [*zoe.values, "zoe still here"]) == []


async def test_an_export_that_did_not_arrive_does_not_count_for_the_hourly_limit(
    desk: Desk,
) -> None:
    await seed(desk, ZOE, "zoe")
    desk.fake.fail_next("sendDocument", network=True, chat_id=ZOE.id)
    await desk.command(ZOE, "mydata")
    assert _documents(desk, ZOE) == {}
    await deliver(desk)  # the error handler's notice goes through the outbox
    assert desk.last_text(ZOE).startswith("Your message")
    await desk.command(ZOE, "mydata")
    assert sorted(_documents(desk, ZOE)) == ["my-data.json", "my-data.txt"]


async def test_the_text_copy_writes_dates_and_the_retention_as_each_language_does(
    tmp_path: Path, clock: FrozenClock
) -> None:
    vera = TelegramUser(5004, "Вера", language_code="ru")
    async with open_desk(tmp_path, clock, retention_days="30") as desk:
        await seed(desk, ZOE, "zoe")
        await seed(desk, vera, "vera")
        prepared = desk.clock.now()
        await desk.command(ZOE, "mydata")
        await desk.command(vera, "mydata")
        english = _documents(desk, ZOE)["my-data.txt"].decode().splitlines()
        russian = _documents(desk, vera)["my-data.txt"].decode().splitlines()
        assert english[1] == f"Prepared: {prepared.astimezone(MOSCOW):%b %-d, %Y, %H:%M}"
        assert russian[1] == f"Подготовлено: {prepared.astimezone(MOSCOW):%d.%m.%Y %H:%M}"

        await desk.command(vera, "privacy")
        assert "Обращения обезличиваются через 30 дней после закрытия" in desk.last_text(vera)
