"""One log line per update with its id and ticket; JSON lines; no customer text at INFO."""

from __future__ import annotations

import json
import logging

import pytest

from bot.ops.logs import ContextFilter, JsonFormatter, build_handler
from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_ticket, ticket

SECRETS = (
    "secret-description-4711",
    "secret-relay-4712",
    "secret-question-4713",
    "secret-reply-4714",
    "secret-edit-4715",
)


async def test_log_lines_carry_update_and_ticket_and_never_customer_text(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.DEBUG)
    await desk.say(IVAN, f"{SECRETS[2]} how long does delivery take")
    opened = await open_ticket(desk, IVAN, description=SECRETS[0])
    assert opened.id is not None
    await deliver(desk)
    topic = (await ticket(desk, opened.id)).topic_id
    relay = desk.updates.text(IVAN, SECRETS[1])
    assert relay.message is not None
    await desk.feed(relay)
    await desk.feed(desk.updates.edited_text(IVAN, relay.message.message_id, SECRETS[4]))
    await desk.feed(desk.updates.group_text(ANNA, STAFF, SECRETS[3], thread_id=topic))
    await deliver(desk)

    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert loud
    for record in loud:
        line = JsonFormatter().format(record)
        assert not any(secret in line for secret in SECRETS), line

    per_update = [r for r in caplog.records if r.name == "bot.ops.updates"]
    relayed = next(r for r in per_update if r.update_id == relay.update_id)  # type: ignore[attr-defined]
    line = json.loads(JsonFormatter().format(relayed))
    assert line["level"] == "INFO"
    assert line["update_id"] == relay.update_id
    assert line["ticket"] == "C-000001"
    assert line["message"].startswith(f"update {relay.update_id} (message) handled in ")
    # Every update got exactly one such line.
    ids = [r.update_id for r in per_update]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids)) == 5


def test_the_text_format_names_update_and_ticket(caplog: pytest.LogCaptureFixture) -> None:
    handler = build_handler("text")
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    handler.filter(record)
    assert handler.format(record).endswith("bot [update=None ticket=None]: hello there")
    json_handler = build_handler("json")
    json_handler.filter(record)
    assert json.loads(json_handler.format(record))["message"] == "hello there"
