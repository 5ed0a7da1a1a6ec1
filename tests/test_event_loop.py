"""The bot's process runs on uvloop where it is installed (`bot/event_loop.py`)."""

from __future__ import annotations

import asyncio

from bot.event_loop import run_event_loop


def test_the_bot_runs_its_loop_on_uvloop() -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run_event_loop(loop_module()).startswith("uvloop")
