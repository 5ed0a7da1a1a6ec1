"""A whole desk in a test: the real app over SQLite, a recording fake Bot API, a frozen clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiogram.types import Update
from pydantic import SecretStr

from bot.app import App, Assets, build_app, load_assets
from bot.config import Settings
from bot.domain.clock import FrozenClock
from storage.unit_of_work import Database
from tests.migrated import migrated_database
from tests.telegram_fake import FakeTelegram, TelegramUser, UpdateFactory

STAFF_CHAT_ID = -1001234567890
_assets: dict[tuple[Any, ...], Assets] = {}
_settings: dict[tuple[Any, ...], Settings] = {}


def shared_assets(settings: Settings) -> Assets:
    """The project's start-up assets (`bot.app.Assets`), read once per test run for each set of
    settings that shapes them (reading them takes longer than the rest of building the app). A
    test that points at its own files for any of them gets them read afresh, as it may change
    them."""
    if (
        settings.complaint_form_file is not None
        or settings.templates_dir is not None
        or settings.causes_file is not None
        or settings.routing_file is not None
        or settings.knowledge_base_dir.is_absolute()
    ):
        return load_assets(settings)
    key = (
        settings.default_locale,
        settings.knowledge_base_dir,
        settings.kb_answer_threshold,
        settings.kb_suggest_threshold,
    )
    if key not in _assets:
        _assets[key] = load_assets(settings)
    return _assets[key]


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """The desk's settings for a test. Validating settings reads the environment and .env
    (tens of milliseconds), so one validated copy per set of overrides, environment and working
    folder is kept and each test gets it with its own database."""
    key = (repr(sorted(overrides.items())), os.getcwd(), tuple(sorted(os.environ.items())))
    validated = _settings.get(key)
    if validated is None:
        values: dict[str, Any] = {
            "bot_token": SecretStr("42:TEST-TOKEN"),
            "database_url": database_url,
            "staff_chat_id": STAFF_CHAT_ID,
            "default_locale": "ru",
            "timezone": "Europe/Moscow",
        }
        values.update(overrides)
        validated = _settings[key] = Settings.model_validate(values)
    return validated.model_copy(update={"database_url": database_url})


class Desk:
    """The running app plus handles on everything a test looks at."""

    def __init__(
        self, settings: Settings, database: Database, clock: FrozenClock, fake: FakeTelegram
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.fake = fake
        self.updates = UpdateFactory(fake, clock=clock)
        self.app: App = self._build()

    def _build(self) -> App:
        return build_app(
            self.settings,
            clock=self.clock,
            session=self.fake,
            database=self.database,
            assets=shared_assets(self.settings),
        )

    async def feed(self, *updates: Update) -> None:
        for update in updates:
            await self.app.dispatcher.feed_update(self.app.bot, update)

    async def say(self, user: TelegramUser, text: str) -> None:
        await self.feed(self.updates.text(user, text))

    async def command(self, user: TelegramUser, command: str, args: str | None = None) -> None:
        await self.feed(self.updates.command(user, command, args))

    async def press(self, user: TelegramUser, button: str, *, chat_id: int | None = None) -> None:
        """Press the inline button with this text on the latest message that has it."""
        chat = chat_id if chat_id is not None else user.id
        for message in reversed(self.fake.messages_to(chat)):
            current = self.fake.message(chat, message.message_id) or message
            for row in self.fake.inline_buttons(current):
                for text, data in row:
                    if text == button and data is not None:
                        await self.feed(self.updates.callback(user, data, message=current))
                        return
        raise AssertionError(f"no button {button!r} in chat {chat}; last: {self.last_text(user)}")

    def last_text(self, user: TelegramUser) -> str:
        return self.fake.texts_to(user.id)[-1]

    def texts(self, user: TelegramUser) -> list[str]:
        return self.fake.texts_to(user.id)

    def buttons(self, user: TelegramUser) -> list[str]:
        """Texts of the inline buttons on the last message sent to the user."""
        last = self.fake.last_sent(user.id)
        current = self.fake.message(user.id, last.message_id) or last
        return [text for row in self.fake.inline_buttons(current) for text, _ in row]

    def restart(self) -> App:
        """A new dispatcher and bot over the same database, as after a process restart."""
        self.app = self._build()
        return self.app


@asynccontextmanager
async def running_desk(tmp_path: Path, clock: FrozenClock, **overrides: Any) -> AsyncIterator[Desk]:
    url = overrides.pop("database_url", None) or f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    database = await migrated_database(url)
    fake = FakeTelegram(clock=clock)
    desk = Desk(make_settings(url, **overrides), database, clock, fake)
    try:
        yield desk
    finally:
        await desk.app.dispatcher.storage.close()
        await database.dispose()
