"""`python -m bot` serves /healthz and /metrics: on METRICS_PORT when polling, on the webhook
server in webhook mode; LOG_FORMAT=json writes one JSON object per line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from aiohttp import ClientSession

from tests.test_run_polling import (
    POLLY,
    LocalBotApi,
    _bot_env,
    _free_port,
    _read_until,
    _serve,
    _terminate,
)

pytestmark = pytest.mark.process


async def _get(url: str) -> tuple[int, str]:
    async with ClientSession() as client, client.get(url) as response:
        return response.status, await response.text()


async def test_polling_with_metrics_port_and_json_logs(tmp_path: Path) -> None:
    api = LocalBotApi()
    start = api.factory.text(POLLY, "/start")
    await api.server.updates.put(start)
    runner, api_port = await _serve(api)
    metrics_port = _free_port()
    env = _bot_env(
        tmp_path,
        api_port,
        METRICS_PORT=str(metrics_port),
        METRICS_HOST="127.0.0.1",
        LOG_FORMAT="json",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    log: list[str] = []
    try:
        await asyncio.wait_for(_read_until(process.stderr, "started", log), 90)
        await asyncio.wait_for(api.sent.wait(), 30)
        await asyncio.wait_for(_read_until(process.stderr, "handled in", log), 30)
        base = f"http://127.0.0.1:{metrics_port}"
        health_status, health = await _get(f"{base}/healthz")
        metrics_status, metrics = await _get(f"{base}/metrics")
        code, output = await _terminate(process, log)
    finally:
        if process.returncode is None:
            process.kill()
        await api.release()
        await runner.cleanup()
    assert code == 0, output
    assert health_status == 200, health
    assert json.loads(health) == {
        "status": "ok",
        "checks": {"database": True, "bot_api": True, "delivery_worker": True},
    }
    assert metrics_status == 200
    assert 'bot_updates_total{kind="message"} 1.0' in metrics
    assert "bot_outbox_depth" in metrics
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    prefix = f"update {start.update_id} (message)"
    handled = [line for line in lines if line["message"].startswith(prefix)]
    assert len(handled) == 1 and handled[0]["update_id"] == start.update_id


async def test_webhook_server_serves_health_and_metrics(tmp_path: Path) -> None:
    api = LocalBotApi()  # no updates queued: the webhook server only has to come up
    runner, api_port = await _serve(api)
    hook_port = _free_port()
    env = _bot_env(
        tmp_path,
        api_port,
        WEBHOOK_URL="https://desk.example.com/webhook",
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(hook_port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    log: list[str] = []
    try:
        await asyncio.wait_for(_read_until(process.stderr, "webhook listening", log), 90)
        health_status, health = await _get(f"http://127.0.0.1:{hook_port}/healthz")
        metrics_status, metrics = await _get(f"http://127.0.0.1:{hook_port}/metrics")
        code, output = await _terminate(process, log)
    finally:
        if process.returncode is None:
            process.kill()
        await api.release()
        await runner.cleanup()
    assert code == 0, output
    assert health_status == 200, health
    assert metrics_status == 200 and "bot_open_tickets" in metrics
