"""`python -m bot` for real against a local Bot API server: polling and webhook, clean SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
USER = {"id": 5005, "is_bot": False, "first_name": "Polly", "language_code": "en"}
BOT = {"id": 42, "is_bot": True, "first_name": "Support Desk", "username": "desk_bot"}

pytestmark = pytest.mark.process


class LocalBotApi:
    """Answers the few methods a starting bot calls; hands out one /start update."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent = asyncio.Event()
        self._update_given = False
        self._nothing_new = asyncio.Event()  # set only by release(): later polls stay open

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(await request.post()) if request.can_read_body else {}
        self.calls.append((method, params))
        result: Any = True
        if method == "getMe":
            result = BOT
        elif method == "getUpdates":
            result = self._updates()
            if not result:
                await self._nothing_new.wait()  # a long poll held open, as Telegram does
        elif method == "sendMessage":
            self.sent.set()
            result = {
                "message_id": 1,
                "date": 1_790_000_000,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT,
                "text": str(params.get("text", "")),
            }
        return web.json_response({"ok": True, "result": result})

    def release(self) -> None:
        """Answer the long polls still held open, so the server can shut down at once."""
        self._nothing_new.set()

    def _updates(self) -> list[dict[str, Any]]:
        if self._update_given:
            return []
        self._update_given = True
        message = {
            "message_id": 10,
            "date": 1_790_000_000,
            "chat": {"id": USER["id"], "type": "private", "first_name": "Polly"},
            "from": USER,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        }
        return [{"update_id": 1, "message": message}]


async def _read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"the bot exited before printing {marker!r}: {''.join(seen)}")
        seen.append(line)
        if marker in line:
            return


async def _terminate(process: asyncio.subprocess.Process, log: list[str]) -> tuple[int, str]:
    """SIGTERM, as a service manager stops the bot; the exit code and everything it logged."""
    assert process.stderr is not None
    process.send_signal(signal.SIGTERM)
    log.append((await asyncio.wait_for(process.stderr.read(), 60)).decode())
    code = await asyncio.wait_for(process.wait(), 30)
    return code, "".join(log)


async def _serve(api: LocalBotApi) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def _bot_env(tmp_path: Path, api_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN="42:LOCAL",
        TELEGRAM_API_URL=f"http://127.0.0.1:{api_port}",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run' / 'bot.db'}",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    env.pop("REDIS_URL", None)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_polling_start_answer_and_clean_sigterm(tmp_path: Path) -> None:
    api = LocalBotApi()
    runner, port = await _serve(api)
    env = _bot_env(tmp_path, port)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    log: list[str] = []
    try:
        await asyncio.wait_for(_read_until(process.stderr, "started", log), 90)
        await asyncio.wait_for(api.sent.wait(), 30)
        code, output = await _terminate(process, log)
    finally:
        if process.returncode is None:
            process.kill()
        api.release()
        await runner.cleanup()
    assert code == 0, output
    assert "@desk_bot started (polling" in output
    assert "stopped" in output
    assert "Traceback" not in output
    methods = [name for name, _ in api.calls]
    assert "setMyCommands" in methods
    greeting = next(p for name, p in api.calls if name == "sendMessage")
    assert str(greeting["text"]).startswith("Hello, Polly!")
    assert json.loads(str(greeting["reply_markup"]))["inline_keyboard"]
    assert (tmp_path / "run" / "bot.db").exists()


async def test_webhook_mode_takes_an_update_and_stops_cleanly(tmp_path: Path) -> None:
    from aiohttp import ClientSession

    api = LocalBotApi()
    api._update_given = True  # updates come through the webhook here
    runner, api_port = await _serve(api)
    hook_port = _free_port()
    env = _bot_env(
        tmp_path,
        api_port,
        WEBHOOK_URL="https://desk.example.com/tg/desk-bot",
        WEBHOOK_SECRET="s3cret-token",
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(hook_port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    log: list[str] = []
    update = {
        "update_id": 7,
        "message": {
            "message_id": 3,
            "date": 1_790_000_000,
            "chat": {"id": USER["id"], "type": "private", "first_name": "Polly"},
            "from": USER,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    url = f"http://127.0.0.1:{hook_port}/tg/desk-bot"  # the path of WEBHOOK_URL
    try:
        await asyncio.wait_for(_read_until(process.stderr, "webhook listening", log), 90)
        async with ClientSession() as client:
            async with client.post(url, json=update) as refused:
                assert refused.status == 401  # no secret token: not Telegram
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            async with client.post(url, json=update, headers=headers) as accepted:
                assert accepted.status == 200
        await asyncio.wait_for(api.sent.wait(), 30)
        code, output = await _terminate(process, log)
    finally:
        if process.returncode is None:
            process.kill()
        api.release()
        await runner.cleanup()
    assert code == 0, output
    assert "Traceback" not in output
    webhook = next(p for name, p in api.calls if name == "setWebhook")
    assert webhook["url"] == "https://desk.example.com/tg/desk-bot"
    assert webhook["secret_token"] == "s3cret-token"
    greeting = next(p for name, p in api.calls if name == "sendMessage")
    assert str(greeting["text"]).startswith("Hello, Polly!")
