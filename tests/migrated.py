"""Migrated databases for tests, fast: the migrations run once per test run into a template
SQLite file, and each test's SQLite database starts as a copy of it (a copy costs about a
millisecond, running the migrations 50-150 ms). PostgreSQL databases are migrated as usual.
The migrations themselves stay tested: the template is made by them, and
`tests/storage/test_storage.py` compares the resulting schema with the models.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.unit_of_work import Database

_template: Path | None = None


async def _template_file() -> Path:
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="bot-test-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "template.db"
        database = Database(create_engine(f"sqlite+aiosqlite:///{path}"))
        try:
            await upgrade_database(database.engine)
        finally:
            await database.dispose()  # the last connection checkpoints the WAL into the file
        _template = path
    return _template


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


async def migrated_database(url: str) -> Database:
    """A `Database` on `url` with the schema at the newest migration."""
    target = _sqlite_file(url)
    if target is not None and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(await _template_file(), target)
        return Database(create_engine(url))
    database = Database(create_engine(url))
    await upgrade_database(database.engine)
    return database
