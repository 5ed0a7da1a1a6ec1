"""Migrated databases for tests, fast: the migrations run once per test process into a
template, and each test's database starts as a copy of it.

- SQLite: a template file; a copy costs about a millisecond, running the migrations 50-150 ms.
- PostgreSQL: a template database on the test server (`CREATE DATABASE ... TEMPLATE`); a copy
  costs 70-400 ms (a checkpoint), creating a database and running the migrations about 0.9 s.
  Nobody may be connected to a template while it is copied: the engine that migrated it is
  disposed, and each test process (xdist worker) has its own, dropped when its session
  finishes. A copy a test has finished with is emptied (its other connections ended, every
  table's rows deleted, its sequences restarted: about 20 ms) and handed to the next test; one
  whose tables or migration no longer match the template's is dropped instead.

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
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import upgrade_database
from storage.unit_of_work import Database
from tests.postgres import admin_execute, connect, create_database, database_url, drop_database

_template: Path | None = None
_postgres_templates: dict[str, str] = {}  # admin URL -> the name of this process's template
_copies_at_head: set[str] = set()  # URLs of the PostgreSQL copies in use
_emptied_copies: dict[str, list[str]] = {}  # admin URL -> names of copies ready for a test


@dataclass(frozen=True)
class _Schema:
    """What an emptied copy must still have to be handed out again, and how to empty it."""

    tables: frozenset[str]
    head: str
    sequences: tuple[str, ...]

    def emptying_sql(self) -> str:
        # The replica role skips the foreign keys' triggers, so the order of deletes is free.
        deletes = "".join(f'DELETE FROM "{table}";' for table in sorted(self.tables))
        restarts = "".join(f'ALTER SEQUENCE "{name}" RESTART;' for name in self.sequences)
        return f"SET session_replication_role = replica;{deletes}{restarts}RESET ALL;"


_schemas: dict[str, _Schema] = {}  # admin URL -> the template's schema
_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"


async def _read_schema(connection: asyncpg.Connection) -> _Schema:
    tables = frozenset(row[0] for row in await connection.fetch(_TABLES))
    head = await connection.fetchval("SELECT version_num FROM alembic_version")
    sequences = await connection.fetch(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
    )
    return _Schema(tables - {"alembic_version"}, head, tuple(row[0] for row in sequences))


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
        connection = await connect(database_url(admin_url, name))
        try:
            _schemas[admin_url] = await _read_schema(connection)
        finally:
            await connection.close()
        _postgres_templates[admin_url] = name
    return name


async def _emptied(admin_url: str, name: str) -> bool:
    """Empty copy `name` for the next test; False when it no longer has the template's schema."""
    await admin_execute(
        admin_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    expected = _schemas[admin_url]
    connection = await connect(database_url(admin_url, name))
    try:
        if await _read_schema(connection) != expected:
            return False
        await connection.execute(expected.emptying_sql())
        return True
    finally:
        await connection.close()


def postgres_templates_made() -> bool:
    return bool(_postgres_templates)


async def drop_postgres_templates() -> None:
    """Drop this process's PostgreSQL templates and copies (at the end of its test session)."""
    for admin_url, names in _emptied_copies.items():
        for name in names:
            await drop_database(admin_url, name)
    _emptied_copies.clear()
    while _postgres_templates:
        admin_url, name = _postgres_templates.popitem()
        await drop_database(admin_url, name)


@asynccontextmanager
async def migrated_postgres_database(admin_url: str, *, prefix: str) -> AsyncIterator[str]:
    """A database at the newest migration with no rows on the server of `admin_url`, for this
    test alone; yields its URL."""
    template = await _postgres_template(admin_url)
    ready = _emptied_copies.setdefault(admin_url, [])
    if ready:
        name = ready.pop()
        url = database_url(admin_url, name)
    else:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        url = await create_database(admin_url, name, template=template)
    _copies_at_head.add(url)
    try:
        yield url
    finally:
        _copies_at_head.discard(url)
        if await _emptied(admin_url, name):
            ready.append(name)
        else:
            await drop_database(admin_url, name)


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
