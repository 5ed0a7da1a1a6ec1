from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.clock import FrozenClock
from tests.harness import Desk
from tests.staff.conftest import open_desk


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path, clock) as running:
        yield running
