"""`python -m bot` serves /healthz and /metrics: on METRICS_PORT when polling, on the webhook
server in webhook mode; LOG_FORMAT=json writes one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import ClientSession

from tests.bot_process import POLLY, RecordedBotApi, bot_process, free_port

pytestmark = pytest.mark.process


async def _get(url: str) -> tuple[int, str]:
    async with ClientSession() as client, client.get(url) as response:
        return response.status, await response.text()


async def test_polling_with_metrics_port_and_json_logs(tmp_path: Path) -> None:
    api = RecordedBotApi()
    start = api.factory.text(POLLY, "/start")
    await api.server.updates.put(start)
    metrics_port = free_port()
    async with bot_process(
        tmp_path,
        api,
        METRICS_PORT=str(metrics_port),
        METRICS_HOST="127.0.0.1",
        LOG_FORMAT="json",
    ) as bot:
        await bot.logged("started")
        await api.wait_sent()
        await bot.logged("handled in", within=30)
        base = f"http://127.0.0.1:{metrics_port}"
        health_status, health = await _get(f"{base}/healthz")
        metrics_status, metrics = await _get(f"{base}/metrics")
        code = await bot.terminate()
    assert code == 0, bot.output
    assert health_status == 200, health
    assert json.loads(health) == {
        "status": "ok",
        "checks": {"database": True, "bot_api": True, "delivery_worker": True},
    }
    assert metrics_status == 200
    assert 'bot_updates_total{kind="message"} 1.0' in metrics
    assert "bot_outbox_depth" in metrics
    lines = [json.loads(line) for line in bot.output.splitlines() if line.strip()]
    prefix = f"update {start.update_id} (message)"
    handled = [line for line in lines if line["message"].startswith(prefix)]
    assert len(handled) == 1 and handled[0]["update_id"] == start.update_id


async def test_webhook_server_serves_health_and_metrics(tmp_path: Path) -> None:
    api = RecordedBotApi()  # no updates queued: the webhook server only has to come up
    hook_port = free_port()
    async with bot_process(
        tmp_path,
        api,
        WEBHOOK_URL="https://desk.example.com/webhook",
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(hook_port),
    ) as bot:
        await bot.logged("webhook listening")
        health_status, health = await _get(f"http://127.0.0.1:{hook_port}/healthz")
        metrics_status, metrics = await _get(f"http://127.0.0.1:{hook_port}/metrics")
        code = await bot.terminate()
    assert code == 0, bot.output
    assert health_status == 200, health
    assert metrics_status == 200 and "bot_open_tickets" in metrics
