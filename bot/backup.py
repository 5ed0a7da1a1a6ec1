"""`python -m bot.backup [--output FILE]`: a consistent copy of the SQLite database, taken
while the bot runs.

The copy is made with SQLite's online backup API in one step: it reads one snapshot of the
database (in WAL mode the bot keeps writing meanwhile), then the copy is checked with
`PRAGMA integrity_check` and moved into place, so a half-written file never carries the final
name. PostgreSQL is backed up with `pg_dump` (see README, "Backups").
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.config import DEFAULT_DATABASE_URL


class BackupSettings(BaseSettings):
    """Only what a backup needs (no bot token)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = DEFAULT_DATABASE_URL


class BackupError(RuntimeError):
    pass


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"{url.get_backend_name()} is backed up with its own tools: "
            "pg_dump --format=custom (see README, 'Backups')"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(url.database)


def default_output(database: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    return database.parent / "backups" / f"{database.stem}-{stamp}{database.suffix or '.db'}"


def backup_sqlite(database: Path, output: Path) -> Path:
    """Copy `database` to `output` consistently; returns `output`."""
    if not database.exists():
        raise BackupError(f"no database at {database}")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # all pages in one step: one consistent snapshot
            target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            result = target.execute("PRAGMA integrity_check").fetchone()
        finally:
            target.close()
    finally:
        source.close()
    if result is None or result[0] != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {result}")
    os.replace(partial, output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.backup", description="Consistent copy of the SQLite database."
    )
    parser.add_argument("--output", type=Path, help="file to write (default: backups/ next to it)")
    args = parser.parse_args(argv)
    try:
        database = sqlite_path(BackupSettings().database_url)
        output = args.output or default_output(database, datetime.now(UTC))
        backup_sqlite(database, output)
    except (BackupError, sqlite3.Error) as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return 2
    print(f"Backup written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
