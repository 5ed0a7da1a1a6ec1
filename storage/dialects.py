"""Statements whose SQL differs between the two databases the bot runs on (an insert that
leaves or updates a row that exists: `ON CONFLICT`), built with each one's `insert`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

T = TypeVar("T")

# By dialect name (`engine.dialect.name`).
INSERTS: dict[str, Callable[..., Any]] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def per_dialect(build: Callable[[Callable[..., Any]], T]) -> dict[str, T]:
    """`build` run once for each database, given its `insert`: statements built once, looked
    up by dialect name when run."""
    return {name: build(insert) for name, insert in INSERTS.items()}
