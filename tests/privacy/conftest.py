from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.clock import FrozenClock
from tests.conftest import requires_postgres, temporary_postgres_database
from tests.harness import Desk
from tests.staff.conftest import open_desk


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
async def any_desk(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Desk]:
    """The staff desk on SQLite and, when available, on PostgreSQL."""
    if request.param == "sqlite":
        async with open_desk(tmp_path, clock) as desk:
            yield desk
        return
    async with (
        temporary_postgres_database() as url,
        open_desk(tmp_path, clock, database_url=url) as desk,
    ):
        yield desk


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path, clock) as running:
        yield running
