"""`python -m bot`: read settings, migrate the database, run polling or a webhook."""

from __future__ import annotations

import contextlib
import gc
import sys

from pydantic import ValidationError

from bot.config import Settings
from bot.domain.form import FormSchemaError
from bot.event_loop import run_event_loop
from bot.ops.logs import configure_logging
from bot.runner import run
from knowledge_base import KnowledgeBaseError
from storage.instance_lock import AnotherInstanceRunning

MISSING_TOKEN = (
    "BOT_TOKEN is not set.\n"
    "Create a bot with @BotFather in Telegram (/newbot), copy the token it gives you and put it\n"
    "in a .env file next to the Makefile:  BOT_TOKEN=123456:ABC...  (or export BOT_TOKEN).\n"
    "See README.md, 'Setting up the bot', for the staff group and the other settings."
)


def load_settings() -> Settings | None:
    try:
        return Settings()
    except ValidationError as exc:
        fields = {str(error["loc"][0]).upper() for error in exc.errors() if error.get("loc")}
        if "BOT_TOKEN" in fields and all(e["type"] == "missing" for e in exc.errors()):
            print(MISSING_TOKEN, file=sys.stderr)
        else:
            print("The configuration is not valid:", file=sys.stderr)
            for error in exc.errors():
                name = ".".join(str(part) for part in error["loc"]).upper()
                print(f"  {name}: {error['msg']}", file=sys.stderr)
        return None


def main() -> int:
    settings = load_settings()
    if settings is None:
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            run_event_loop(run(settings))
    except (KnowledgeBaseError, FormSchemaError, AnotherInstanceRunning) as error:
        print(f"The bot did not start: {error}", file=sys.stderr)
        return 2
    # Everything is closed: spare the interpreter's last garbage collection over the whole
    # heap (seconds with a loaded knowledge base), so a stop by SIGTERM ends at once.
    gc.freeze()
    return 0


if __name__ == "__main__":
    sys.exit(main())
