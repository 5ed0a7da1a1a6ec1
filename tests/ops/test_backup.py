"""`python -m bot.backup`: a consistent SQLite copy while another connection keeps writing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.backup import backup_sqlite, main
from tests.conftest import open_database

INSERT = (
    "INSERT INTO customers (telegram_id, first_name, locale, is_banned, is_unreachable,"
    " created_at, updated_at) VALUES (?, 'Writer', 'en', 0, 0,"
    " '2026-11-23 09:30:00.000000', '2026-11-23 09:30:00.000000')"
)


def _count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM customers").fetchone()[0])


async def _migrated(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    database = await open_database(f"sqlite+aiosqlite:///{path}")
    await database.dispose()
    return path


async def test_a_copy_taken_during_writes_is_consistent_and_self_contained(
    tmp_path: Path,
) -> None:
    path = await _migrated(tmp_path)
    started, stop = threading.Event(), threading.Event()
    written: list[int] = []

    def writer() -> None:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        number = 1
        while not stop.is_set():
            connection.execute(INSERT, (number,))
            written.append(number)
            if number == 200:
                started.set()
            number += 1
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(timeout=30)
        before = len(written)
        output = backup_sqlite(path, tmp_path / "copies" / "bot-copy.db")
        after = len(written)
    finally:
        stop.set()
        thread.join()

    assert output == tmp_path / "copies" / "bot-copy.db"
    assert not (tmp_path / "copies" / "bot-copy.db.part").exists()
    with sqlite3.connect(output) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() is not None
        ids = [row[0] for row in copy.execute("SELECT telegram_id FROM customers ORDER BY 1")]
    assert before <= len(ids) <= after
    assert ids == list(range(1, len(ids) + 1)), "a prefix of the writes: one snapshot"
    assert _count(path) == len(written)


async def test_the_command_reads_database_url_and_refuses_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = await _migrated(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    assert main([]) == 0
    [written] = (tmp_path / "backups").glob("bot-*.db")
    assert capsys.readouterr().out == f"Backup written to {written}\n"
    assert main(["--output", str(tmp_path / "explicit.db")]) == 0
    assert (tmp_path / "explicit.db").exists()

    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://bot@db/bot")
    assert main([]) == 2
    assert "pg_dump" in capsys.readouterr().err
