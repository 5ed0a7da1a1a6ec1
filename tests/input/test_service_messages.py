"""An administrator closing, reopening or renaming a ticket's topic by hand, pinning a message
or members joining: service messages in the topic are not an agent's reply to the customer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, OUTSIDER, STAFF, deliver, open_ticket, ticket

SERVICE_CONTENT: dict[str, dict[str, Any]] = {
    "topic closed": {"forum_topic_closed": {}},
    "topic reopened": {"forum_topic_reopened": {}},
    "topic renamed": {"forum_topic_edited": {"name": "renamed by hand"}},
    "topic icon changed": {"forum_topic_edited": {"icon_custom_emoji_id": "5368324170671202286"}},
    "message pinned": {
        "pinned_message": {"message_id": 1, "chat": {"id": STAFF, "type": "supergroup"}, "date": 0}
    },
    "members joined": {"new_chat_members": [OUTSIDER.to_api()]},
    "member left": {"left_chat_member": OUTSIDER.to_api()},
    "video chat started": {"video_chat_started": {}},
}


@pytest.mark.parametrize("content", SERVICE_CONTENT.values(), ids=SERVICE_CONTENT)
async def test_a_service_message_in_a_topic_is_not_a_reply(
    desk: Desk, content: dict[str, Any]
) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    before = await ticket(desk, opened.id or 0)
    desk.fake.clear()

    await desk.feed(desk.updates.message(ANNA, content, chat_id=STAFF, thread_id=before.topic_id))
    await deliver(desk)

    after = await ticket(desk, opened.id or 0)
    assert after.status == "new"
    assert after.first_response_at is None
    assert after.assignee_id is None
    assert desk.fake.calls_of("copyMessage", "sendMessage", "forwardMessage") == []
    assert desk.fake.messages_to(IVAN.id) == []
    async with desk.database.unit_of_work() as uow:
        messages = await uow.messages.for_ticket(ticket_id=after.id or 0)
    assert all(m.direction != "out" for m in messages)


async def test_an_agent_reply_after_the_service_message_still_goes_out(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    await desk.feed(
        desk.updates.message(ANNA, {"forum_topic_closed": {}}, chat_id=STAFF, thread_id=topic)
    )
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "Hello, looking into it", thread_id=topic))
    await deliver(desk)
    assert "Hello, looking into it" in desk.last_text(IVAN)
    assert (await ticket(desk, opened.id or 0)).first_response_at is not None
