"""The embedded SQLite path (`storage/embedded_sqlite.py`): the SQLAlchemy hooks it relies
on, its slow-statement log, and every SQLite URL the README allows."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import pytest
import sqlalchemy as sql
from sqlalchemy import text
from sqlalchemy.ext.asyncio import result as async_result
from sqlmodel import col, select

from bot.domain.clock import FrozenClock
from storage import embedded_sqlite
from storage.embedded_sqlite import EmbeddedSqlite
from storage.fsm_store import FSM
from storage.models import Ticket
from storage.unit_of_work import Database
from tests.harness import running_desk
from tests.telegram_fake import TelegramUser

ANNA = TelegramUser(1001, "Anna", "Smith", username="anna", language_code="en")


def test_sqlalchemy_still_looks_for_async_soft_close_on_the_cursor() -> None:
    """The loop cursor answers the call SQLAlchemy's asyncio results make on a cursor; if a
    new SQLAlchemy calls something else, this fails before the bot does."""
    assert "_async_soft_close" in inspect.getsource(async_result)
    assert inspect.iscoroutinefunction(embedded_sqlite._LoopCursor._async_soft_close)


async def test_unit_of_work_statements_run_on_the_embedded_engine(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[object] = []

    async def soft_close(cursor: object) -> None:
        closed.append(cursor)

    monkeypatch.setattr(embedded_sqlite._LoopCursor, "_async_soft_close", soft_close)
    async with database.unit_of_work() as uow:
        # The sync-session-class hook: the async session's statements go to the loop engine.
        assert uow.session.sync_session.get_bind() is database.sync_engines[-1]
        assert list((await uow.session.exec(select(Ticket).order_by(col(Ticket.id)))).all()) == []
        # A statement that returns rows outside the ORM leaves its cursor to the async result.
        core_rows = sql.select(FSM.c.key)
        assert (await uow.session.exec(core_rows)).all() == []  # type: ignore[call-overload]
    assert closed, "SQLAlchemy's async result no longer soft-closes the cursor"


class _Ticking:
    """A timer that moves by `step` seconds each time it is read: a statement (read before
    and after) takes exactly `step`."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_statement_slower_than_50_ms_is_logged_with_its_sql(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    timer = _Ticking(0.049)
    embedded = EmbeddedSqlite.open(f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}", timer=timer)
    assert embedded is not None
    try:
        with caplog.at_level(logging.WARNING, logger=embedded_sqlite.__name__):
            embedded.run(lambda c: c.execute(text("SELECT 1 AS fast")))
            assert caplog.records == []
            timer.step = 0.051
            embedded.run(lambda c: c.execute(text("SELECT 2 AS slow")))
        [record] = caplog.records
        assert record.levelno == logging.WARNING
        assert "51 ms" in record.getMessage()
        assert "SELECT 2 AS slow" in record.getMessage()
    finally:
        embedded.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite://",
        "postgresql+asyncpg://u@h/db",
    ],
)
def test_in_memory_and_server_databases_stay_off_the_embedded_path(url: str) -> None:
    assert EmbeddedSqlite.open(url) is None


async def test_a_complaint_end_to_end_on_an_in_memory_database(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """The conversation state lives in the same in-memory database as the tickets (it used
    to open a second, empty one: "no such table: fsm_states")."""
    async with running_desk(tmp_path, clock, database_url="sqlite+aiosqlite:///:memory:") as desk:
        await desk.command(ANNA, "complaint")
        await desk.press(ANNA, "Delivery")
        await desk.say(ANNA, "12345678")
        await desk.say(ANNA, "The courier left the parcel in the rain")
        await desk.press(ANNA, "Yesterday")
        await desk.press(ANNA, "Skip")
        await desk.say(ANNA, "Skip")
        assert "Order number: 12345678" in desk.last_text(ANNA)
        await desk.press(ANNA, "✅ Submit")
        assert "Your complaint is registered." in desk.last_text(ANNA)
        assert "Number: C-000001" in desk.last_text(ANNA)
        async with desk.database.unit_of_work() as uow:
            [ticket] = (await uow.session.exec(select(Ticket))).all()
        assert ticket.description == "The courier left the parcel in the rain"
