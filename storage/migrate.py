"""Apply Alembic migrations from inside the running application.

Several instances may start at once on a fresh database. On PostgreSQL the upgrade runs under
a transaction-level advisory lock: the others wait for it, then find the schema at head and do
nothing. Elsewhere (SQLite, where two writers fail instead of waiting) an instance that lost
the race tries again after a short pause.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed 64-bit number, the same for every instance of the bot ("migrate1" in ASCII).
MIGRATION_LOCK_ID = 0x6D69677261746531
ATTEMPTS = 5

log = logging.getLogger(__name__)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def _upgrade_once(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
            )
        await connection.run_sync(_upgrade, revision)


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await _upgrade_once(engine, revision)
            return
        except DBAPIError as error:
            if attempt == ATTEMPTS:
                raise
            log.warning(
                "migrating the database failed (%s); another instance may be migrating it, "
                "trying again",
                error.orig,
            )
            await asyncio.sleep(0.2 * attempt)
