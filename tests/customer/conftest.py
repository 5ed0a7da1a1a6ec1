from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.clock import FrozenClock
from tests.harness import Desk, running_desk


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    async with running_desk(tmp_path, clock) as running:
        yield running
