"""/erase in a ticket's topic (administrators only) and the daily retention sweep."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.domain.clock import FrozenClock
from bot.jobs.scheduler import build_runner
from storage.privacy_models import PrivacyEvent
from tests.harness import Desk
from tests.privacy.helpers import file_ids_of, seed, statistics, where_stored
from tests.privacy.test_privacy import OLLY, ZOE
from tests.staff.conftest import ANNA, OUTSIDER, STAFF, deliver, open_desk, ticket


def _shown(desk: Desk, chat_id: int) -> str:
    last = desk.fake.last_sent(chat_id)
    current = desk.fake.message(chat_id, last.message_id) or last
    return current.text or ""


async def test_only_administrators_may_erase_and_only_after_confirming(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with open_desk(tmp_path, clock, staff_user_ids=[OUTSIDER.id]) as desk:
        zoe = await seed(desk, ZOE, "zoe")
        topic = zoe.topics[0]
        await desk.feed(desk.updates.group_text(OUTSIDER, STAFF, "/erase", thread_id=topic))
        assert _shown(desk, STAFF) == (
            "Удалять персональные данные клиентов могут только администраторы группы."
        )
        await desk.feed(desk.updates.group_text(ANNA, STAFF, "/erase", thread_id=topic))
        assert _shown(desk, STAFF).startswith("Удалить персональные данные клиента этого")
        await desk.press(OUTSIDER, "🗑 Удалить", chat_id=STAFF)
        await desk.press(ANNA, "Отмена", chat_id=STAFF)
        assert _shown(desk, STAFF) == "Удаление отменено."
        assert {v for _, _, v in await where_stored(desk, zoe.values)} == set(zoe.values)
        alerts = [c.params.get("text") for c in desk.fake.calls_of("answerCallbackQuery")]
        assert "Удалять персональные данные клиентов могут только администраторы группы." in alerts


async def test_an_admin_erases_a_customer_and_their_topics_are_deleted(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with open_desk(tmp_path, clock, erase_topics="delete") as desk:
        zoe = await seed(desk, ZOE, "zoe")
        olly = await seed(desk, OLLY, "olly")
        zoe_files = await file_ids_of(desk, zoe.customer_id)
        # Half-way through a new complaint: the form's answers are personal data too.
        await desk.command(ZOE, "complaint")
        await desk.press(ZOE, "Delivery")
        await desk.say(ZOE, "98765432")
        await desk.say(ZOE, "zoe half-written complaint")
        assert [t for t, _, _ in await where_stored(desk, ["zoe half-written"])] == ["fsm_states"]

        topic = zoe.topics[1]
        await desk.feed(desk.updates.group_text(ANNA, STAFF, "/erase", thread_id=topic))
        await desk.press(ANNA, "🗑 Удалить", chat_id=STAFF)
        assert _shown(desk, STAFF) == (
            "🔒 Персональные данные удалены (Anna Agent): 2 обращения, 7 сообщений, 4 файла, "
            "1 вопрос; закрыто: C-000002."
        )
        await deliver(desk)

        assert await where_stored(desk, [*zoe.values, *zoe_files, "zoe half-written"]) == []
        live = desk.fake.topics(STAFF)
        assert all(t not in live for t in zoe.topics)
        assert all(t in live for t in olly.topics)
        assert desk.fake.texts_to(STAFF, thread_id=None)[-1] == (
            "🔒 C-000002 закрыто: администратор удалил персональные данные клиента."
        )
        async with desk.database.unit_of_work() as uow:
            [event] = (await uow.session.exec(select(PrivacyEvent))).all()
        assert (event.kind, event.actor_kind, event.actor_id) == ("erase", "agent", ANNA.id)
        assert event.counts["topics"] == 2
        # The customer starts afresh: no form half-way, no tickets.
        await desk.say(ZOE, "hello again")
        assert "zoe" not in desk.last_text(ZOE)
        await desk.command(ZOE, "tickets")
        assert desk.last_text(ZOE) == "You have no tickets yet."


async def test_retention_anonymises_closed_tickets_older_than_the_period(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with open_desk(tmp_path, clock, retention_days="30") as desk:
        zoe = await seed(desk, ZOE, "zoe")
        clock.advance(timedelta(days=20))
        olly = await seed(desk, OLLY, "olly")
        clock.advance(timedelta(days=11))
        before = await statistics(desk, zoe.closed_ticket)
        runner = build_runner(
            desk.settings, desk.database, clock, desk.app.tickets.sla, desk.app.catalogs
        )

        report = await runner.tick()
        assert report.anonymised == 1
        assert (await runner.tick()).anonymised is None  # once a day
        clock.advance(timedelta(days=1))
        assert (await runner.tick()).anonymised == 0  # nothing new, nothing done twice

        assert await where_stored(desk, zoe.closed_ticket_values) == []
        still = set(zoe.values) - set(zoe.closed_ticket_values)
        assert {v for _, _, v in await where_stored(desk, list(still))} == still
        assert {v for _, _, v in await where_stored(desk, olly.values)} == set(olly.values)
        after = await statistics(desk, zoe.closed_ticket)
        assert after["events"][: len(before["events"])] == before["events"]
        assert [e[1] for e in after["events"][len(before["events"]) :]] == ["anonymised"]
        assert {k: v for k, v in after.items() if k != "events"} == {
            k: v for k, v in before.items() if k != "events"
        }
        assert (await ticket(desk, zoe.open_ticket)).description == "zoe second complaint"
        async with desk.database.unit_of_work() as uow:
            runs = (
                await uow.session.exec(
                    select(PrivacyEvent)
                    .where(PrivacyEvent.kind == "retention")
                    .order_by(col(PrivacyEvent.id))
                )
            ).all()
        assert [(r.actor_kind, r.counts["tickets"]) for r in runs] == [("system", 1)]
