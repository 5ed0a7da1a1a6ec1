"""How updates are routed: every filter and handler runs on the event loop.

aiogram runs a filter or handler that is not a coroutine function in a worker thread
(`asyncio.to_thread`), a round trip per check that made every private message several
times slower; `bot.telegram.filters` has coroutine versions of the checks the routers need.
"""

from __future__ import annotations

from pathlib import Path

from aiogram import Router

from bot.app import build_app
from tests.harness import make_settings
from tests.telegram_fake import FakeTelegram


def _thread_bound(router: Router) -> list[str]:
    found: list[str] = []
    for event, observer in router.observers.items():
        for check in observer._handler.filters or []:
            if not check.awaitable:
                found.append(f"{router.name}.{event} router filter {check.callback!r}")
        for handler in observer.handlers:
            name = getattr(handler.callback, "__name__", repr(handler.callback))
            if not handler.awaitable:
                found.append(f"{router.name}.{event} handler {name}")
            found.extend(
                f"{router.name}.{event} filter of {name}: {check.callback!r}"
                for check in handler.filters or []
                if not check.awaitable
            )
    for sub_router in router.sub_routers:
        found.extend(_thread_bound(sub_router))
    return found


def test_no_filter_or_handler_runs_in_a_thread(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}")
    app = build_app(settings, session=FakeTelegram())

    assert app.settings.staff_chat_id is not None  # the staff routers are included
    assert _thread_bound(app.dispatcher) == []
