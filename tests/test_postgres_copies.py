"""A PostgreSQL test database handed to the next test (`tests/migrated.py`) is as a fresh copy
would be: no rows, sequences from the start, the newest migration; one whose schema a test
changed is dropped, not handed on."""

from __future__ import annotations

import asyncpg

from tests.conftest import POSTGRES_URL, requires_postgres
from tests.migrated import migrated_postgres_database
from tests.postgres import admin_execute, connect

pytestmark = requires_postgres

_ADD_CUSTOMER = (
    "INSERT INTO customers (telegram_id, first_name, locale, is_banned, is_unreachable, "
    "created_at, updated_at) VALUES (7, 'Anna', 'ru', false, false, now(), now())"
)


async def test_the_next_test_gets_the_database_empty_and_its_numbering_restarted() -> None:
    assert POSTGRES_URL
    async with migrated_postgres_database(POSTGRES_URL, prefix="bot_test") as first:
        await admin_execute(first, _ADD_CUSTOMER)
        left_open: asyncpg.Connection = await connect(first)  # a test that forgot to close
        await left_open.execute("BEGIN; LOCK TABLE customers")
    async with migrated_postgres_database(POSTGRES_URL, prefix="bot_test") as second:
        assert second == first
        connection = await connect(second)
        try:
            await connection.execute("SET lock_timeout = '2s'")  # the forgotten lock is gone
            assert await connection.fetchval("SELECT count(*) FROM customers") == 0
            await connection.execute(_ADD_CUSTOMER)
            assert await connection.fetchval("SELECT id FROM customers") == 1
        finally:
            await connection.close()
    await left_open.close()


async def test_a_database_whose_schema_changed_is_not_handed_on() -> None:
    assert POSTGRES_URL
    async with migrated_postgres_database(POSTGRES_URL, prefix="bot_test") as changed:
        await admin_execute(changed, "CREATE TABLE scratch (id int)")
    async with migrated_postgres_database(POSTGRES_URL, prefix="bot_test") as next_one:
        assert next_one != changed
