"""`python -m bot` for real against the Bot API emulator: polling and webhook, clean SIGTERM."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot_process import POLLY, RecordedBotApi, bot_process, free_port

pytestmark = pytest.mark.process


async def test_polling_start_answer_and_clean_sigterm(tmp_path: Path) -> None:
    api = RecordedBotApi()
    await api.server.updates.put(api.factory.text(POLLY, "/start"))
    async with bot_process(tmp_path, api) as bot:
        await bot.logged("started")
        await api.wait_sent()
        code = await bot.terminate()
    output = bot.output
    assert code == 0, output
    assert "@desk_bot started (polling" in output
    # Full collections no longer walk the start-up heap (bot/ops/heap.py).
    assert "start-up heap frozen" in output
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

    api = RecordedBotApi()  # no updates queued: they come through the webhook here
    hook_port = free_port()
    update = api.factory.text(POLLY, "/start").model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    url = f"http://127.0.0.1:{hook_port}/tg/desk-bot"  # the path of WEBHOOK_URL
    async with bot_process(
        tmp_path,
        api,
        WEBHOOK_URL="https://desk.example.com/tg/desk-bot",
        WEBHOOK_SECRET="s3cret-token",
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(hook_port),
    ) as bot:
        await bot.logged("webhook listening")
        async with ClientSession() as client:
            async with client.post(url, json=update) as refused:
                assert refused.status == 401  # no secret token: not Telegram
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            async with client.post(url, json=update, headers=headers) as accepted:
                assert accepted.status == 200
        await api.wait_sent()
        code = await bot.terminate()
    assert code == 0, bot.output
    assert "Traceback" not in bot.output
    webhook = next(p for name, p in api.calls if name == "setWebhook")
    assert webhook["url"] == "https://desk.example.com/tg/desk-bot"
    assert webhook["secret_token"] == "s3cret-token"
    greeting = next(p for name, p in api.calls if name == "sendMessage")
    assert str(greeting["text"]).startswith("Hello, Polly!")
