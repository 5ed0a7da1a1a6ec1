"""The statements of every customer's message and every delivery round are the same text at
each execution: lists of values are one array parameter on PostgreSQL and fixed constants are
written into the SQL, so SQLAlchemy never has to expand a list into the statement's text
(its post-compile step, about 2% of the bot's CPU under load: docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import column, create_engine, select, table, text
from sqlalchemy.dialects import postgresql

from storage.delivery_store import _NEXT_DUE, _STATEMENTS
from storage.dialects import among
from storage.repositories import _CUSTOMERS_TICKETS


def _expands_a_list(statement: Any) -> bool:
    compiled = statement.compile(dialect=postgresql.asyncpg.dialect())
    return "POSTCOMPILE" in str(compiled)


@pytest.mark.parametrize(
    "name",
    ["due_candidates", "rows", "claim", "renew", "release"],
)
def test_the_delivery_rounds_statements_expand_no_list(name: str) -> None:
    assert not _expands_a_list(getattr(_STATEMENTS["postgresql"], name))


def test_the_next_due_look_up_expands_no_list() -> None:
    assert not _expands_a_list(_NEXT_DUE)


def test_a_customers_open_tickets_are_read_without_expanding_a_list() -> None:
    statements = _CUSTOMERS_TICKETS["postgresql"]
    for statement in (
        statements.open_for_customer,
        statements.open_with_customer,
        statements.open_with_customer_locked,
    ):
        assert not _expands_a_list(statement)


def test_constants_written_into_the_statement_are_quoted() -> None:
    rows = table("rows", column("name"))
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE rows (name TEXT)"))
        connection.execute(
            text("INSERT INTO rows VALUES ('pending'), ('it''s'), ('sent'), ('x'' OR ''1''=''1')")
        )
        found = connection.execute(
            select(rows.c.name).where(among(rows.c.name, ("pending", "it's"))).order_by("name")
        ).scalars()
        assert list(found) == ["it's", "pending"]
    engine.dispose()
