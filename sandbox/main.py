"""`python -m bot.sandbox`: the emulator, the page and the real bot in one process.

The bot is the production one (``bot.runner.run``) talking HTTP to the emulator through
``TELEGRAM_API_URL``, with a token that only the emulator accepts, its own SQLite file under
``data/sandbox/`` and the sandbox's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.app import App
from bot.config import Settings
from bot.domain.form import FormSchemaError
from bot.runner import run
from knowledge_base import KnowledgeBaseError
from sandbox import cast
from sandbox.clock import SandboxClock
from sandbox.seed import Seeder
from sandbox.web import SandboxPage
from sandbox.world import SandboxWorld

DEFAULT_PORT = 8088
DEFAULT_DATA_DIR = Path("data/sandbox")
HOST = "127.0.0.1"
DATABASE_FILE = "sandbox.db"
FIRST_LINE = (
    "No BOT_TOKEN: starting the local sandbox at {url} — set BOT_TOKEN to connect to Telegram"
)
#: Sweeps run this often on the sandbox clock, so a jump of the clock shows at once.
SWEEP_INTERVAL_SECONDS = 2.0

log = logging.getLogger("sandbox")


class _TokenOnly(BaseSettings):
    """Reads BOT_TOKEN the way the bot's settings do (environment first, then `.env`)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )
    bot_token: SecretStr | None = None


def token_is_set() -> bool:
    token = _TokenOnly().bot_token
    return token is not None and bool(token.get_secret_value().strip())


def sandbox_settings(port: int, data_dir: Path) -> Settings:
    """The bot's settings in the sandbox: what makes it local is fixed here and wins over the
    environment and `.env`; everything else (form, knowledge base, SLA ...) is read as usual."""
    staff = cast.agents()
    overrides: dict[str, Any] = {
        "bot_token": cast.BOT_TOKEN,
        "telegram_api_url": f"http://{HOST}:{port}",
        "staff_chat_id": cast.STAFF_CHAT_ID,
        "staff_user_ids": staff,
        "supervisor_ids": cast.admins(),
        "database_url": f"sqlite+aiosqlite:///{(data_dir / DATABASE_FILE).resolve()}",
        "redis_url": None,
        "webhook_url": None,
        "webhook_secret": None,
        "sweep_interval_seconds": SWEEP_INTERVAL_SECONDS,
        "staff_group_messages_per_minute": 0,
        "private_chat_min_interval_seconds": 0,
        "bot_messages_per_second": 0,
    }
    return Settings(**overrides)


def _fresh_database(data_dir: Path) -> None:
    """Telegram's side of the sandbox lives in memory, so each start begins with an empty
    desk too (a database remembering topics the emulator never saw would only confuse)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        (data_dir / (DATABASE_FILE + suffix)).unlink(missing_ok=True)


async def serve(port: int, data_dir: Path) -> None:
    clock = SandboxClock()
    world = SandboxWorld(clock)
    seeder = Seeder(world)
    web_app = web.Application(client_max_size=25 * 1024 * 1024)
    world.server.add_routes(web_app)
    page = SandboxPage(world, timezone="UTC", seed=seeder.run)
    page.add_routes(web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(FIRST_LINE.format(url=f"http://{HOST}:{bound}"), flush=True)
    try:
        settings = sandbox_settings(bound, data_dir)
        page.timezone = settings.timezone
        _fresh_database(data_dir)

        async def started(app: App) -> None:
            seeder.attach(app)
            log.info("sandbox ready: open http://%s:%s in a browser", HOST, bound)

        await run(settings, clock=clock, on_started=started)
    finally:
        world.events.close()
        await world.server.close()
        await runner.cleanup()


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox",
        description="The support desk with a local Telegram in the browser (no token needed).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=os.environ.get("SANDBOX_PORT") or str(DEFAULT_PORT),
        help="port of the page and the emulator on 127.0.0.1 (SANDBOX_PORT; 0: any free port)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("SANDBOX_DATA_DIR") or DEFAULT_DATA_DIR),
        help="folder of the sandbox's own database (SANDBOX_DATA_DIR)",
    )
    parser.add_argument(
        "--token-is-set",
        action="store_true",
        help="only answer: exit 0 when BOT_TOKEN is set (environment or .env), 1 otherwise",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    if args.token_is_set:
        return 0 if token_is_set() else 1
    if not 0 <= args.port <= 65535:
        print(f"SANDBOX_PORT must be a port number (0-65535), not {args.port}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("aiogram.event", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args.port, args.data_dir))
    except ValidationError as error:
        print("The configuration is not valid:", file=sys.stderr)
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]).upper()
            print(f"  {name}: {item['msg']}", file=sys.stderr)
        return 2
    except (KnowledgeBaseError, FormSchemaError, OSError) as error:
        print(f"The sandbox did not start: {error}", file=sys.stderr)
        return 2
    return 0
