"""Two instances of the bot on one PostgreSQL and one Redis behind one webhook: started at the
same moment on a fresh database, updates split between them; every message arrives once and
every ticket has one topic."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, REDIS_URL
from tests.postgres import temporary_database
from tests.receipt.traffic import (
    CUSTOMERS,
    EXIT_WITHIN,
    MESSAGES_EACH,
    REPLIES_EACH,
    BotProcess,
    Traffic,
    bot_env,
    inbox_states,
    local_api,
    seed,
    wait_accounted,
)

pytestmark = [
    pytest.mark.process,
    pytest.mark.skipif(
        not (POSTGRES_URL and REDIS_URL), reason="needs TEST_POSTGRES_URL and TEST_REDIS_URL"
    ),
]
SECRET = "two-instances-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_two_instances_share_the_work_and_send_nothing_twice(
    tmp_path: Path, redis_prefix: str
) -> None:
    assert POSTGRES_URL and REDIS_URL
    api = local_api()
    api_port = await api.serve()
    ports = [_free_port(), _free_port()]
    bots: list[BotProcess] = []
    delivering: asyncio.Task[None] | None = None
    sending: asyncio.Task[None] | None = None
    async with temporary_database(POSTGRES_URL, prefix="bot_two") as url:
        for number, port in enumerate(ports):
            env = bot_env(
                url,
                api_port,
                REDIS_URL=REDIS_URL,
                REDIS_PREFIX=redis_prefix,
                WEBHOOK_URL="https://desk.example.com/tg/hook",
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_HOST="127.0.0.1",
                WEBHOOK_PORT=str(port),
            )
            bots.append(BotProcess(env, tmp_path / f"bot{number}.log"))
        traffic = Traffic(api)
        try:
            # Both start at the same moment on a database with no schema yet.
            await asyncio.gather(*(bot.start(ready="webhook listening") for bot in bots))
            await seed(url)
            delivering = asyncio.create_task(
                api.deliver_to_webhooks(
                    [f"http://127.0.0.1:{port}/tg/hook" for port in ports], SECRET
                )
            )
            sending = asyncio.create_task(traffic.run())
            await asyncio.wait_for(sending, 120)
            started = time.monotonic()
            report = await wait_accounted(traffic, 60)
            accounted_after = time.monotonic() - started
            stops = [await bot.stop(signal.SIGTERM) for bot in bots]
            left = await inbox_states(url)
        finally:
            for task in (sending, delivering):
                if task is not None:
                    task.cancel()
            for bot in bots:
                bot.kill()
            await api.close()

    print(
        f"\ntwo instances: lost {len(report.customer_lost)} + {len(report.replies_lost)}; "
        f"duplicates {report.customer_duplicates} + {report.reply_duplicates}; "
        f"{report.topics} topics for {CUSTOMERS} tickets; accounted {accounted_after:.1f} s "
        f"after the traffic"
    )
    logs = "\n".join(bot.log for bot in bots)
    assert len(traffic.customer_messages) == CUSTOMERS * MESSAGES_EACH
    assert len(traffic.replies) == CUSTOMERS * REPLIES_EACH
    assert report.customer_lost == [] and report.replies_lost == [], logs[-5000:]
    assert (report.customer_duplicates, report.reply_duplicates) == (0, 0)
    assert report.topics == CUSTOMERS  # one topic per ticket
    assert left == {"done": len(traffic.customer_messages) + len(traffic.replies)}
    assert all(code == 0 and took < EXIT_WITHIN for code, took in stops), stops
    assert "Traceback" not in logs, logs[-5000:]
    for bot in bots:  # both took a share of the updates (the bot's one line per update)
        assert "(message) handled in" in bot.log
