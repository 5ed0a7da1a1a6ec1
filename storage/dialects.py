"""Statements whose SQL differs between the two databases the bot runs on, built once for
each: an insert that leaves or updates a row that exists (`ON CONFLICT`, each one's
`insert`), and a column compared with a list of values (`one_of`, `none_of`); and a column
compared with a fixed list of constants, the same on both (`among`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import BigInteger, ColumnElement, all_, any_, bindparam, literal_column
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import TypeEngine

T = TypeVar("T")

# By dialect name (`engine.dialect.name`).
INSERTS: dict[str, Callable[..., Any]] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def per_dialect(build: Callable[[Callable[..., Any]], T]) -> dict[str, T]:
    """`build` run once for each database, given its `insert`: statements built once, looked
    up by dialect name when run."""
    return {name: build(insert) for name, insert in INSERTS.items()}


def one_of(
    dialect: str,
    column: ColumnElement[Any],
    name: str,
    item: type[TypeEngine[Any]] | TypeEngine[Any] = BigInteger,
) -> ColumnElement[bool]:
    """`column` is one of the values (integers unless `item` says otherwise) in the list
    parameter `name`. On PostgreSQL that is `= ANY(:name)` with the list as one array: the SQL
    stays the same whatever the list's length, so each connection prepares it once, where
    `IN (...)` is rendered anew for each length (and prepared again on every connection for
    each new length). SQLite has no arrays: `IN`, the list expanded."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(item)))
    return column.in_(bindparam(name, expanding=True))


def none_of(dialect: str, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column` is none of the integers in the list parameter `name` (see `one_of`)."""
    if dialect == "postgresql":
        return column != all_(bindparam(name, type_=ARRAY(BigInteger)))
    return column.not_in(bindparam(name, expanding=True))


def among(column: ColumnElement[Any], constants: Sequence[str]) -> ColumnElement[bool]:
    """`column IN ('a', 'b')` with fixed text constants written into the statement. A list of
    bound values is expanded into the statement's text at every execution (SQLAlchemy's
    post-compile step: about 2% of the bot's CPU under the load bench, where the delivery
    round's statements test the outbox status against two constants eight times)."""
    return column.in_([literal_column("'" + value.replace("'", "''") + "'") for value in constants])
