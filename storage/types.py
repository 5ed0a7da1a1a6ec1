"""Column types shared by the tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores timezone-aware UTC; SQLite drops the zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EnumText(TypeDecorator[E]):
    """A string column holding one of an enum's values, returned as the enum member.

    The database sees a plain VARCHAR with the enum's values as they are (no native enum type,
    no constraint), so the schema is the one of a string column. A value outside the enum
    fails on the way in (the statement is not sent) and on the way out.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum
        self._members: dict[str, E] = {member.value: member for member in enum}

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        member = self._members.get(value) if isinstance(value, str) else None
        if member is None:
            raise self._refused(value)
        return member.value

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], E | None]:
        # A report reads these columns for every ticket of a period: one look-up per value
        # instead of the generic hook's chain of calls (about a quarter of its time).
        members = self._members
        refused = self._refused

        def process(value: Any) -> E | None:
            if value is None:
                return None
            member = members.get(value)
            if member is None:
                raise refused(value)
            return member

        return process

    def _refused(self, value: Any) -> ValueError:
        return ValueError(f"{value!r} is not a {self.enum.__name__}")
