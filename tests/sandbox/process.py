"""Starting the sandbox as a separate process, as `make run` does without a token."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout

ROOT = Path(__file__).resolve().parent.parent.parent
FIRST_LINE = re.compile(
    r"^No BOT_TOKEN: starting the local sandbox at (http://127\.0\.0\.1:(\d+)) — "
    r"set BOT_TOKEN to connect to Telegram$"
)
START_TIMEOUT = 120


def sandbox_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without a token, database or Redis: a fresh machine."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "DATABASE_", "REDIS_", "SANDBOX_", "TELEGRAM_"))
    }
    env.update(
        SANDBOX_PORT="0",
        SANDBOX_DATA_DIR=str(data_dir),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@dataclass
class RunningSandbox:
    process: asyncio.subprocess.Process
    first_line: str
    url: str
    log: list[str] = field(default_factory=list)

    async def get(self, path: str) -> Any:
        async with (
            ClientSession(timeout=ClientTimeout(total=30)) as client,
            client.get(self.url + path) as response,
        ):
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any], *, seconds: float = 30) -> Any:
        async with (
            ClientSession(timeout=ClientTimeout(total=seconds)) as client,
            client.post(self.url + path, json=body) as response,
        ):
            assert response.status == 200, await response.text()
            return await response.json()

    async def wait_for_chat(
        self,
        chat_id: int,
        condition: Callable[[list[dict[str, Any]]], bool],
        *,
        within: float = 60,
    ) -> list[dict[str, Any]]:
        """Wait (on the page's live events, never by sleeping) until the chat's messages meet
        the condition; returns them."""

        async def watch() -> list[dict[str, Any]]:
            async with ClientSession() as client, client.get(self.url + "/api/events") as stream:
                messages = (await self.get(f"/api/chat/{chat_id}"))["messages"]
                if condition(messages):
                    return list(messages)
                async for line in stream.content:
                    if not line.startswith(b"data: "):
                        continue
                    event = json.loads(line[len(b"data: ") :])
                    if event.get("chat_id") != chat_id:
                        continue
                    messages = (await self.get(f"/api/chat/{chat_id}"))["messages"]
                    if condition(messages):
                        return list(messages)
            raise AssertionError("the event stream ended")

        return await asyncio.wait_for(watch(), within)


async def _read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"the sandbox exited before logging {marker!r}: {''.join(seen)}")
        seen.append(line)
        if marker in line:
            return


@asynccontextmanager
async def running_sandbox(
    command: Sequence[str], *, cwd: Path, env: dict[str, str]
) -> AsyncIterator[RunningSandbox]:
    """Start the command (its own process group), read the first line and wait until the bot
    polls; on exit stop it with SIGTERM as a terminal's Ctrl+C or a service manager would."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    log: list[str] = []
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)).decode()
        match = FIRST_LINE.match(first.rstrip("\n"))
        if match is None:
            rest = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
            raise AssertionError(f"unexpected first line {first!r}; log: {rest}")
        await asyncio.wait_for(_read_until(process.stderr, "sandbox ready", log), START_TIMEOUT)
        yield RunningSandbox(process, first.rstrip("\n"), match.group(1), log)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                tail = await asyncio.wait_for(process.stderr.read(), 60)
                log.append(tail.decode())
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


def sandbox_command() -> list[str]:
    return [sys.executable, "-m", "bot.sandbox"]
