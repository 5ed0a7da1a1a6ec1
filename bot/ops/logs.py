"""Logging set-up: one line per event, with the update id and ticket number it concerns.

`LOG_FORMAT=json` writes one JSON object per line for log collectors. Customers' message
texts are never logged at INFO or above (handlers log ids, numbers and kinds only).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.ops import context

TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [update=%(update_id)s ticket=%(ticket)s]: %(message)s"
)


class ContextFilter(logging.Filter):
    """Adds `update_id` and `ticket` (None when unknown) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "update_id"):
            record.update_id = context.update_id.get()
        if not hasattr(record, "ticket"):
            record.ticket = context.ticket_number.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "update_id": getattr(record, "update_id", None),
            "ticket": getattr(record, "ticket", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def build_handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(level: str, log_format: str) -> None:
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(build_handler(log_format))
    root.setLevel(level.upper())
    # aiogram logs its own line per update; ours (bot.ops.updates) carries the ticket too.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))
