"""SLA sweeps with a frozen clock: the right message at the right moment, never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import TicketStatus
from bot.services.sla_sweeps import SlaSweepReport
from storage.unit_of_work import Database
from tests.sla.helpers import (
    HOUR,
    STAFF_CHAT,
    SUPERVISOR,
    add_customer,
    events,
    keys,
    make_sweeps,
    move,
    open_ticket,
    outbox,
    respond,
    ticket,
)

MINUTE = timedelta(minutes=1)


async def test_first_response_warning_at_75_percent_once(
    any_database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(any_database, clock)
    opened = await open_ticket(any_database, clock, customer_id, priority="urgent", assignee_id=321)
    sweeps = make_sweeps(any_database, clock)

    clock.advance(44 * MINUTE)
    assert (await sweeps.run_once()).total == 0
    assert await outbox(any_database) == []

    clock.advance(MINUTE)
    report = await sweeps.run_once()
    assert report.warned == {"first_response": 1, "resolution": 0}
    rows = await outbox(any_database)
    assert keys(rows) == [
        f"sla-warn:{opened.id}:first_response",
        f"sla-warn-agent:{opened.id}:first_response",
    ]
    warning = rows[0]
    assert (warning.chat_id, warning.thread_id, warning.ticket_id) == (STAFF_CHAT, 55, opened.id)
    assert warning.payload["ticket_topic"] is True
    assert opened.number in warning.payload["html"]
    assert "75%" in warning.payload["html"]
    assert 'href="tg://user?id=321"' in warning.payload["html"]
    assert [e.data["target"] for e in await events(any_database, "sla_warning")] == [
        "first_response"
    ]

    assert (await sweeps.run_once()).total == 0
    clock.advance(5 * MINUTE)
    assert (await sweeps.run_once()).total == 0
    assert len(await outbox(any_database)) == 2
    assert len(await events(any_database, "sla_warning")) == 1


async def test_breach_is_recorded_once_and_escalated(
    any_database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(any_database, clock)
    opened = await open_ticket(any_database, clock, customer_id, priority="urgent")
    sweeps = make_sweeps(any_database, clock)

    clock.advance(HOUR)
    report = await sweeps.run_once()
    assert report.breached == {"first_response": 1, "resolution": 0}
    assert report.warned == {"first_response": 0, "resolution": 0}
    breaches = await events(any_database, "sla_breach")
    assert [(e.ticket_id, e.data["target"], e.actor_kind) for e in breaches] == [
        (opened.id, "first_response", "system")
    ]
    rows = [row for row in await outbox(any_database) if row.kind != "refresh_card"]
    assert sorted(row.chat_id for row in rows) == sorted([SUPERVISOR, STAFF_CHAT])
    for row in rows:
        assert row.thread_id is None
        assert opened.number in row.payload["html"]
        assert "First-response target missed" in row.payload["html"]
    stored = await ticket(any_database, opened.id or 0)
    assert stored.first_response_breached_at == clock.now()
    assert stored.first_response_warned_at == clock.now()  # no late warning after a breach
    assert stored.priority == "urgent"

    assert (await sweeps.run_once()).total == 0
    clock.advance(10 * MINUTE)
    assert (await sweeps.run_once()).total == 0
    assert len([row for row in await outbox(any_database) if row.kind != "refresh_card"]) == 2
    assert len(await events(any_database, "sla_breach")) == 1


async def test_answered_ticket_is_watched_on_resolution_only(
    any_database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(any_database, clock)
    opened = await open_ticket(any_database, clock, customer_id, priority="urgent")
    sweeps = make_sweeps(any_database, clock)
    clock.advance(10 * MINUTE)
    await respond(any_database, clock, opened.id or 0)
    await move(any_database, clock, opened.id or 0, TicketStatus.IN_PROGRESS)

    clock.advance(2 * HOUR)
    assert (await sweeps.run_once()).total == 0  # first response given: no breach
    clock.set(opened.created_at + 6 * HOUR)  # 75% of 8 h
    report = await sweeps.run_once()
    assert report.warned == {"first_response": 0, "resolution": 1}
    clock.set(opened.created_at + 8 * HOUR)
    report = await sweeps.run_once()
    assert report.breached == {"first_response": 0, "resolution": 1}
    assert [e.data["target"] for e in await events(any_database, "sla_breach")] == ["resolution"]
    assert (await sweeps.run_once()).total == 0


async def test_waiting_for_the_customer_pauses_the_resolution_clock(
    any_database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(any_database, clock)
    opened = await open_ticket(any_database, clock, customer_id, priority="urgent")
    await respond(any_database, clock, opened.id or 0)
    await move(any_database, clock, opened.id or 0, TicketStatus.IN_PROGRESS)
    sweeps = make_sweeps(any_database, clock)
    clock.advance(HOUR)
    await move(any_database, clock, opened.id or 0, TicketStatus.WAITING_CUSTOMER)
    clock.advance(20 * HOUR)  # long past the 8 h target, but the clock is stopped
    assert (await sweeps.run_once()).total == 0

    await move(any_database, clock, opened.id or 0, TicketStatus.IN_PROGRESS)
    # 1 h used before the pause: the warning comes 5 h after the customer answered.
    clock.advance(5 * HOUR - MINUTE)
    assert (await sweeps.run_once()).total == 0
    clock.advance(MINUTE)
    assert (await sweeps.run_once()).warned["resolution"] == 1


async def test_escalation_raises_priority_when_configured(
    any_database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(any_database, clock)
    opened = await open_ticket(any_database, clock, customer_id, priority="normal")
    sweeps = make_sweeps(any_database, clock, raises_priority=True)
    clock.advance(24 * HOUR)
    report = await sweeps.run_once()
    assert report.breached["first_response"] == 1
    stored = await ticket(any_database, opened.id or 0)
    assert stored.priority == "high"
    assert stored.first_response_due == opened.created_at + 4 * HOUR  # recomputed
    # The high resolution target (24 h) has passed too; that breach raises no further.
    assert report.breached["resolution"] == 1
    changes = await events(any_database, "priority")
    assert [(e.data["from"], e.data["to"], e.actor_kind) for e in changes] == [
        ("normal", "high", "system")
    ]
    assert (await sweeps.run_once()).breached["first_response"] == 0
    assert (await ticket(any_database, opened.id or 0)).priority == "high"


async def test_many_breaches_make_one_digest_per_recipient(
    any_database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(any_database, clock)
    for _ in range(25):
        await open_ticket(any_database, clock, customer_id, priority="urgent")
    clock.advance(2 * HOUR)
    report = await make_sweeps(any_database, clock).run_once()
    assert report.breached["first_response"] == 25
    rows = [row for row in await outbox(any_database) if row.key.startswith("sla-escalate")]
    assert len(rows) == 2
    assert "and 5 more" in rows[0].payload["html"]
    assert len(await events(any_database, "sla_breach")) == 25


async def test_still_working_message_once_per_period(
    any_database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(any_database, clock, telegram_id=4242)
    opened = await open_ticket(any_database, clock, customer_id, priority="low")
    quiet = await open_ticket(any_database, clock, customer_id, priority="low")
    await move(any_database, clock, quiet.id or 0, TicketStatus.WAITING_CUSTOMER)
    sweeps = make_sweeps(any_database, clock)
    clock.advance(HOUR)
    await respond(any_database, clock, opened.id or 0)

    clock.set(opened.created_at + 24 * HOUR)
    assert (await sweeps.run_once()).still_working == 0  # answered 23 h ago
    clock.set(opened.created_at + 25 * HOUR - MINUTE)
    assert (await sweeps.run_once()).still_working == 0
    clock.set(opened.created_at + 25 * HOUR)
    assert (await sweeps.run_once()).still_working == 1
    assert (await sweeps.run_once()).still_working == 0
    clock.advance(23 * HOUR)
    assert (await sweeps.run_once()).still_working == 0
    clock.advance(HOUR)
    assert (await sweeps.run_once()).still_working == 1

    rows = [row for row in await outbox(any_database) if row.key.startswith("still-working")]
    assert [row.chat_id for row in rows] == [4242, 4242]
    assert all(row.ticket_id == opened.id for row in rows)
    assert "still working" in rows[0].payload["html"]
    assert len(await events(any_database, "still_working")) == 2


async def test_auto_close_after_seven_days_without_reaction(
    any_database: Database, clock: FrozenClock
) -> None:
    customer_id = await add_customer(any_database, clock, telegram_id=4343, locale="ru")
    opened = await open_ticket(any_database, clock, customer_id)
    await respond(any_database, clock, opened.id or 0)
    await move(any_database, clock, opened.id or 0, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED)
    resolved_at = clock.now()
    sweeps = make_sweeps(any_database, clock)

    clock.set(resolved_at + timedelta(days=7) - MINUTE)
    assert (await sweeps.run_once()).auto_closed == 0
    clock.set(resolved_at + timedelta(days=7))
    assert (await sweeps.run_once()).auto_closed == 1
    assert (await sweeps.run_once()).auto_closed == 0

    stored = await ticket(any_database, opened.id or 0)
    assert stored.status == "closed"
    assert stored.closed_at == clock.now()
    closing = [e for e in await events(any_database, "status") if e.to_status == "closed"]
    assert [(e.actor_kind, e.from_status, e.comment) for e in closing] == [
        ("system", "resolved", "auto_close")
    ]
    rows = [row for row in await outbox(any_database) if row.key.startswith("auto-close")]
    assert sorted(row.chat_id for row in rows) == sorted([4343, STAFF_CHAT])
    to_customer = next(row for row in rows if row.chat_id == 4343)
    assert "закрыто" in to_customer.payload["html"]


async def test_business_hours_delay_the_warning_over_the_weekend(
    any_database: Database, clock: FrozenClock
) -> None:
    sla = SlaPolicy.from_config(
        business_hours="09:00-18:00",
        weekdays="mon-fri",
        holidays=["2026-11-30"],
        timezone="Europe/Moscow",
        business_time_only=True,
    )
    # Friday 17:30 in Moscow; the urgent 1 h target runs 30 min on Friday, the rest on Tuesday
    # (Monday is a holiday).
    clock.set(datetime(2026, 11, 27, 14, 30, tzinfo=UTC))
    customer_id = await add_customer(any_database, clock)
    opened = await open_ticket(any_database, clock, customer_id, priority="urgent", sla=sla)
    assert opened.first_response_due == datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
    sweeps = make_sweeps(any_database, clock, sla=sla)

    clock.set(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))  # Saturday
    assert _sla_notices(await sweeps.run_once()) == 0
    clock.set(datetime(2026, 12, 1, 6, 14, tzinfo=UTC))  # Tuesday 09:14
    assert _sla_notices(await sweeps.run_once()) == 0
    clock.set(datetime(2026, 12, 1, 6, 15, tzinfo=UTC))  # Tuesday 09:15: 45 of 60 minutes
    assert (await sweeps.run_once()).warned["first_response"] == 1
    clock.set(datetime(2026, 12, 1, 6, 30, tzinfo=UTC))
    assert (await sweeps.run_once()).breached["first_response"] == 1


def _sla_notices(report: SlaSweepReport) -> int:
    return sum(report.warned.values()) + sum(report.breached.values())
