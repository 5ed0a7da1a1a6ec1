"""Migrated databases for tests, fast: the migrations run once per test process into a
template, and each test's database starts as a copy of it.

- SQLite: a template file; a copy costs about a millisecond, running the migrations 50-150 ms.
- PostgreSQL: a template database on the test server (`CREATE DATABASE ... TEMPLATE`); a copy
  costs about 70 ms, creating a database and running the migrations about 0.9 s. Nobody may be
  connected to a template while it is copied: the engine that migrated it is disposed, and
  each test process (xdist worker) has its own, dropped when its session finishes.

The migrations themselves stay tested: every template is made by them (on a fresh PostgreSQL
database in every run that has one), `tests/storage/test_storage.py` compares the resulting
schema with the models and `tests/receipt/test_start_and_stop.py` migrates fresh databases
from several processes at once.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.unit_of_work import Database
from tests.postgres import create_database, drop_database, temporary_database

_template: Path | None = None
_postgres_templates: dict[str, str] = {}  # admin URL -> the name of this process's template
_copies_at_head: set[str] = set()  # URLs of the PostgreSQL copies in use


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


async def _postgres_template(admin_url: str) -> str:
    name = _postgres_templates.get(admin_url)
    if name is None:
        name = f"bot_test_template_{uuid.uuid4().hex[:12]}"
        database = Database(create_engine(await create_database(admin_url, name)))
        try:
            await upgrade_database(database.engine)
        except BaseException:
            await database.dispose()
            await drop_database(admin_url, name)
            raise
        await database.dispose()  # a template is copied only while nobody is connected to it
        _postgres_templates[admin_url] = name
    return name


def postgres_templates_made() -> bool:
    return bool(_postgres_templates)


async def drop_postgres_templates() -> None:
    """Drop this process's PostgreSQL templates (at the end of its test session)."""
    while _postgres_templates:
        admin_url, name = _postgres_templates.popitem()
        await drop_database(admin_url, name)


@asynccontextmanager
async def migrated_postgres_database(admin_url: str, *, prefix: str) -> AsyncIterator[str]:
    """A database at the newest migration on the server of `admin_url`, dropped afterwards;
    yields its URL."""
    template = await _postgres_template(admin_url)
    async with temporary_database(admin_url, prefix=prefix, template=template) as url:
        _copies_at_head.add(url)
        try:
            yield url
        finally:
            _copies_at_head.discard(url)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


async def migrated_database(url: str) -> Database:
    """A `Database` on `url` with the schema at the newest migration: a new SQLite file is a
    copy of the template file, a database from `migrated_postgres_database` is one already;
    any other database is migrated."""
    target = _sqlite_file(url)
    if target is not None and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(await _template_file(), target)
        return Database(create_engine(url))
    database = Database(create_engine(url))
    if url not in _copies_at_head:
        await upgrade_database(database.engine)
    return database
