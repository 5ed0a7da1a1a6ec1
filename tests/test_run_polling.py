"""`python -m bot` for real against the Bot API emulator: polling and webhook, clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from sandbox.emulator import FakeTelegram, RecordedCall, TelegramUser, UpdateFactory
from sandbox.emulator.server import BotApiServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "42:LOCAL"
POLLY = TelegramUser(5005, "Polly", language_code="en")

pytestmark = pytest.mark.process


class LocalBotApi:
    """The Bot API emulator on a local port; ``sent`` is set once the bot sends a message."""

    def __init__(self) -> None:
        self.telegram = FakeTelegram(bot_username="desk_bot")
        self.factory = UpdateFactory(self.telegram)
        self.server = BotApiServer(self.telegram, token=TOKEN, listeners=[self._heard])
        self.sent = asyncio.Event()

    def _heard(self, call: RecordedCall) -> None:
        if call.name == "sendMessage" and call.ok:
            self.sent.set()

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return [(call.name, call.params) for call in self.telegram.calls]

    async def release(self) -> None:
        """Answer the long polls still held open, so the server can shut down at once."""
        await self.server.close()


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
    return await api.server.serve()


def _bot_env(tmp_path: Path, api_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
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
    await api.server.updates.put(api.factory.text(POLLY, "/start"))
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
        await api.release()
        await runner.cleanup()
    assert code == 0, output
    assert "@desk_bot started (polling" in output
    assert "stopped" in output
    assert "Traceback" not in output
    methods = [name for name, _ in api.calls]
    assert "setMyCommands" in methods
    greeting = next(p for name, p in api.calls if name == "sendMessage")
    assert str(greeting["text"]).startswith("Hello, Polly!")
    assert greeting["reply_markup"]["inline_keyboard"]
    assert (tmp_path / "run" / "bot.db").exists()


async def test_webhook_mode_takes_an_update_and_stops_cleanly(tmp_path: Path) -> None:
    from aiohttp import ClientSession

    api = LocalBotApi()  # no updates queued: they come through the webhook here
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
    update = api.factory.text(POLLY, "/start").model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
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
        await api.release()
        await runner.cleanup()
    assert code == 0, output
    assert "Traceback" not in output
    webhook = next(p for name, p in api.calls if name == "setWebhook")
    assert webhook["url"] == "https://desk.example.com/tg/desk-bot"
    assert webhook["secret_token"] == "s3cret-token"
    greeting = next(p for name, p in api.calls if name == "sendMessage")
    assert str(greeting["text"]).startswith("Hello, Polly!")
