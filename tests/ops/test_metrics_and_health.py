"""/healthz and /metrics served over HTTP, fed by a real dialogue through the dispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.jobs.scheduler import build_runner
from bot.ops.metrics import REGISTRY
from bot.ops.server import Ops
from storage.db import create_engine
from storage.unit_of_work import Database
from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, MARIA, STAFF, deliver, open_ticket, ticket


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def ops(desk: Desk) -> AsyncIterator[Ops]:
    alive = {"worker": True}
    served = Ops(
        bot=desk.app.bot,
        database=desk.database,
        clock=desk.clock,
        worker_alive=lambda: alive["worker"],
    )
    served.alive = alive  # type: ignore[attr-defined]
    await served.serve("127.0.0.1", 0)
    try:
        yield served
    finally:
        await served.stop()


async def _get(ops: Ops, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{ops.port}{path}") as response,
    ):
        return response.status, await response.text()


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def test_metrics_count_updates_errors_deliveries_and_show_the_desk_state(
    desk: Desk, ops: Ops
) -> None:
    messages = _value("bot_updates_total", kind="message")
    callbacks = _value("bot_updates_total", kind="callback_query")
    errors = _value("bot_handler_errors_total", kind="message")
    sent = _value("bot_deliveries_total", result="sent")
    limited = _value("bot_deliveries_total", result="429")
    blocked = _value("bot_deliveries_total", result="403")
    latency = _value("bot_update_handling_seconds_count", kind="message")

    await desk.command(IVAN, "start")
    await desk.press(IVAN, "🌐 Language")
    desk.fake.fail_next("sendMessage", error_code=400, description="Bad Request: boom")
    await desk.command(MARIA, "help")
    opened = await open_ticket(desk, IVAN)
    await open_ticket(desk, MARIA)
    await deliver(desk)
    assert opened.id is not None
    topic = (await ticket(desk, opened.id)).topic_id
    desk.fake.fail_next("copyMessage", retry_after=5, chat_id=STAFF)
    desk.fake.fail_next("sendMessage", retry_after=5, chat_id=STAFF)
    await desk.say(IVAN, "Where is it?")
    await deliver(desk)
    desk.fake.fail_next("sendMessage", error_code=403, chat_id=IVAN.id)
    desk.fake.fail_next("copyMessage", error_code=403, chat_id=IVAN.id)
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "hello", thread_id=topic))
    await deliver(desk)

    assert _value("bot_updates_total", kind="message") == messages + 6
    assert _value("bot_updates_total", kind="callback_query") == callbacks + 1
    assert _value("bot_handler_errors_total", kind="message") == errors + 1
    assert _value("bot_update_handling_seconds_count", kind="message") == latency + 6
    assert _value("bot_deliveries_total", result="sent") > sent
    assert _value("bot_deliveries_total", result="429") == limited + 2
    assert _value("bot_deliveries_total", result="403") == blocked + 1

    status, body = await _get(ops, "/metrics")
    assert status == 200
    samples = _samples(body)
    open_by_status = {
        labels[0][1]: value
        for (name, labels), value in samples.items()
        if name == "bot_open_tickets"
    }
    assert open_by_status == {
        "new": 1,
        "in_progress": 1,
        "waiting_customer": 0,
        "resolved": 0,
        "reopened": 0,
    }
    assert samples[("bot_outbox_depth", ())] == 0
    assert samples[("bot_outbox_oldest_due_age_seconds", ())] == 0
    assert ("bot_event_loop_lag_seconds", ()) in samples


async def test_outbox_depth_and_age_of_the_oldest_due_message(desk: Desk, ops: Ops) -> None:
    await open_ticket(desk, IVAN)
    await deliver(desk)
    await desk.say(IVAN, "Where is it?")  # its copy for the topic waits in the outbox
    desk.clock.advance(timedelta(seconds=90))
    _, body = await _get(ops, "/metrics")
    samples = _samples(body)
    assert samples[("bot_outbox_depth", ())] >= 1
    assert samples[("bot_outbox_oldest_due_age_seconds", ())] == 90


async def test_sweeps_are_timed_and_breaches_counted(desk: Desk) -> None:
    runs = _value("bot_sweep_duration_seconds_count", sweep="sla")
    breaches = _value("bot_sla_breaches_total", target="first_response")
    await open_ticket(desk, IVAN)
    runner = build_runner(
        desk.settings, desk.database, desk.clock, desk.app.tickets.sla, desk.app.catalogs
    )
    desk.clock.advance(timedelta(hours=25))
    await runner.tick()
    assert _value("bot_sweep_duration_seconds_count", sweep="sla") == runs + 1
    assert _value("bot_sla_breaches_total", target="first_response") == breaches + 1


async def test_healthz_reports_each_check(desk: Desk, ops: Ops) -> None:
    status, body = await _get(ops, "/healthz")
    assert status == 200
    assert '"status": "ok"' in body
    assert desk.fake.calls_of("getMe"), "with no recent answer the Bot API is asked"

    desk.fake.clear()
    await desk.command(IVAN, "start")  # the bot just talked to the Bot API
    assert (await _get(ops, "/healthz"))[0] == 200
    assert desk.fake.calls_of("getMe") == []

    ops.alive["worker"] = False  # type: ignore[attr-defined]
    status, body = await _get(ops, "/healthz")
    assert status == 503
    assert '"delivery_worker": false' in body and '"database": true' in body

    ops.alive["worker"] = True  # type: ignore[attr-defined]
    desk.clock.advance(timedelta(minutes=2))
    desk.fake.fail_next("getMe", network=True)
    status, body = await _get(ops, "/healthz")
    assert status == 503 and '"bot_api": false' in body

    ops.database = Database(create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    try:
        status, body = await _get(ops, "/healthz")
    finally:
        await ops.database.dispose()
    assert status == 503 and '"database": false' in body
