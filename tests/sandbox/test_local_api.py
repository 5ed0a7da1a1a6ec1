"""The emulator as the fault and load runs use it: customers and agents writing, a bot polling
or taking webhooks over HTTP, every copy and text kept for accounting.

The bot's side speaks through aiogram's own HTTP session, and webhook bodies are read with
aiogram's ``Update``: what does not fit aiogram's types fails here as it would fail the bot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Update
from aiohttp import web

from sandbox.emulator.local import Copy, LocalBotApi
from tests.sandbox.http_session import LocalHttpSession

TOKEN = "42:LOCAL"
STAFF = -1009876543210
CUSTOMER = 7001
AGENT = 9001


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    local = LocalBotApi(token=TOKEN, staff_chat_id=STAFF)
    local.add_user(CUSTOMER, "Cust00")
    local.add_user(AGENT, "Agent9001")
    try:
        yield local
    finally:
        await local.close()


@pytest.fixture
async def bot(api: LocalBotApi) -> AsyncIterator[Bot]:
    port = await api.serve()
    session = LocalHttpSession(f"http://127.0.0.1:{port}")
    client = Bot(TOKEN, session=session)
    try:
        yield client
    finally:
        await session.close()


async def test_customer_and_agent_messages_reach_a_polling_bot(api: LocalBotApi, bot: Bot) -> None:
    customer_message = await api.customer_writes(CUSTOMER, "c00-0")
    topic = await bot.create_forum_topic(STAFF, "Cust00 · #1")
    assert api.topics == {topic.message_thread_id: "Cust00 · #1"}
    assert api.topic_of("Cust00") == topic.message_thread_id
    assert api.topic_of("Cust01") is None
    agent_message = await api.agent_writes(AGENT, topic.message_thread_id, "a00-0")

    first, second = await bot.get_updates(timeout=0)
    assert first.message is not None and second.message is not None
    assert first.message.message_id == customer_message
    assert first.message.chat.type == "private" and first.message.text == "c00-0"
    assert first.message.from_user is not None and first.message.from_user.id == CUSTOMER
    reply = second.message
    assert reply.message_id == agent_message and reply.text == "a00-0"
    assert reply.chat.id == STAFF and reply.chat.is_forum
    assert reply.message_thread_id == topic.message_thread_id and reply.is_topic_message
    # In a topic every message replies to the topic's "created" service message.
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.forum_topic_created is not None
    assert reply.reply_to_message.forum_topic_created.name == "Cust00 · #1"

    # Telegram's rule: updates stay until a later offset confirms them.
    again = await bot.get_updates(offset=first.update_id, timeout=0)
    assert [u.update_id for u in again] == [first.update_id, second.update_id]
    assert await bot.get_updates(offset=second.update_id + 1, timeout=0) == []
    await asyncio.wait_for(api.server.updates.drained(), 5)


async def test_copies_and_texts_are_kept_with_their_topic(api: LocalBotApi, bot: Bot) -> None:
    message_id = await api.customer_writes(CUSTOMER, "c00-0")
    topic = (await bot.create_forum_topic(STAFF, "Cust00")).message_thread_id
    copied = await bot.copy_message(STAFF, CUSTOMER, message_id, message_thread_id=topic)
    await bot.send_message(CUSTOMER, "<b>Agent</b>\na00-0", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(STAFF, "lost", message_thread_id=topic + 1000)
    with pytest.raises(TelegramBadRequest):
        await bot.copy_message(STAFF, CUSTOMER, message_id + 1000, message_thread_id=topic)

    assert [(c.chat_id, c.thread_id, c.from_chat_id, c.message_id) for c in api.copies] == [
        (STAFF, topic, CUSTOMER, message_id)
    ]
    assert isinstance(api.copies[0], Copy) and copied.message_id > 0
    # Refused calls are not recorded: only what reached a chat counts.
    assert [(t.chat_id, t.thread_id, t.text) for t in api.texts] == [
        (CUSTOMER, None, "<b>Agent</b>\na00-0")
    ]
    assert api.texts[0].at >= api.copies[0].at
    # The emulator forgets answered calls, so a long run does not grow with them.
    assert api.telegram.calls == []


@dataclass
class Instance:
    """A bot instance's webhook endpoint: answers ``refuse`` first, then 200."""

    refuse: list[int] = field(default_factory=list)
    received: list[Update] = field(default_factory=list)
    taken: list[Update] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        update = Update.model_validate(await request.json())
        self.received.append(update)
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if self.refuse:
            return web.Response(status=self.refuse.pop(0))
        self.taken.append(update)
        return web.Response()


async def _listen(instance: Instance) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/tg/hook", instance.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/tg/hook"


async def test_webhook_delivery_to_two_instances_retries_until_one_answers_200(
    api: LocalBotApi,
) -> None:
    first, second = Instance(), Instance(refuse=[500])
    runners = []
    urls = []
    for instance in (first, second):
        runner, url = await _listen(instance)
        runners.append(runner)
        urls.append(url)
    sent = [await api.customer_writes(CUSTOMER, f"c00-{n}") for n in range(4)]
    delivering = asyncio.create_task(api.deliver_to_webhooks(urls, "hook-secret"))
    try:
        await asyncio.wait_for(api.server.updates.drained(), 30)
    finally:
        delivering.cancel()
        for runner in runners:
            await runner.cleanup()

    assert len(api.server.updates) == 0  # every update confirmed by a 200
    taken = sorted(first.taken + second.taken, key=lambda u: u.update_id)
    assert [u.message.message_id for u in taken if u.message] == sent  # each once, in order
    refused = second.received[0]
    assert refused not in second.taken
    assert refused.update_id in [u.update_id for u in first.taken]  # sent again elsewhere
    assert first.taken and second.taken  # both instances took a share
    assert set(first.secrets + second.secrets) == {"hook-secret"}
