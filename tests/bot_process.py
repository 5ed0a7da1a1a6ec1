"""`python -m bot` as a separate process against the Bot API emulator on a local port: one way
to start it, wait for what it logs, stop it as a service manager does and clean up."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.emulator import FakeTelegram, RecordedCall, TelegramUser, UpdateFactory
from sandbox.emulator.server import BotApiServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "42:LOCAL"
POLLY = TelegramUser(5005, "Polly", language_code="en")
START_WITHIN = 90  # seconds: importing the app on a loaded machine is slow


class RecordedBotApi:
    """The Bot API emulator keeping every call; ``sent`` is set once the bot sends a message."""

    def __init__(self) -> None:
        self.telegram = FakeTelegram(bot_username="desk_bot")
        self.factory = UpdateFactory(self.telegram)
        self.server = BotApiServer(self.telegram, token=TOKEN, listeners=[self._heard])
        self.sent = asyncio.Event()

    def _heard(self, call: RecordedCall) -> None:
        if call.name == "sendMessage" and call.ok:
            self.sent.set()

    async def wait_sent(self, within: float = 30) -> None:
        await asyncio.wait_for(self.sent.wait(), within)

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return [(call.name, call.params) for call in self.telegram.calls]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_env(tmp_path: Path, api_port: int, **extra: str) -> dict[str, str]:
    """The caller's environment with this test's token, Bot API and database (no Redis)."""
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


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log: list[str] = field(default_factory=list)

    async def logged(self, marker: str, *, within: float = START_WITHIN) -> None:
        """Wait until the bot logs a line with `marker` (failing if it exits first)."""
        stream = self.process.stderr
        assert stream is not None

        async def read() -> None:
            while True:
                line = (await stream.readline()).decode()
                if not line:
                    raise AssertionError(f"the bot exited before logging {marker!r}: {self.output}")
                self.log.append(line)
                if marker in line:
                    return

        await asyncio.wait_for(read(), within)

    @property
    def output(self) -> str:
        return "".join(self.log)

    async def terminate(self) -> int:
        """SIGTERM, as a service manager stops the bot; its exit code (the rest of what it
        logged is in `output`)."""
        assert self.process.stderr is not None
        self.process.send_signal(signal.SIGTERM)
        self.log.append((await asyncio.wait_for(self.process.stderr.read(), 60)).decode())
        return await asyncio.wait_for(self.process.wait(), 30)


@asynccontextmanager
async def bot_process(tmp_path: Path, api: RecordedBotApi, **env: str) -> AsyncIterator[BotProcess]:
    """Serve `api`, start `python -m bot` on it with these extra settings; afterwards kill the
    bot if the test did not stop it, and close the emulator (answering held long polls)."""
    runner, port = await api.server.serve()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=bot_env(tmp_path, port, **env),
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            yield BotProcess(process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    finally:
        await api.server.close()
        await runner.cleanup()
