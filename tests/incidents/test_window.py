"""The in-memory window of detection: topped up from the database, cut off by time, also
when another instance commits a ticket late (out of order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bot.services.incidents.window import WindowCache
from storage.incident_repository import IncidentRepository

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class _Stored:
    """What the observations table holds (what `IncidentRepository.window` reads)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, datetime, str, int]] = []

    def add(self, ticket_id: int, minutes: float) -> None:
        at = START + timedelta(minutes=minutes)
        self.rows.append((ticket_id, at, f"text {ticket_id}", ticket_id))

    async def window(self, *, category: str, since: datetime) -> list[Any]:
        return [row for row in self.rows if row[1] >= since]


async def _ids(cache: WindowCache, stored: _Stored, minutes: float, **extra: Any) -> list[int]:
    now = START + timedelta(minutes=minutes)
    repo = cast(IncidentRepository, stored)
    window = await cache.window(repo, "payment", since=now - HOUR, now=now, **extra)
    return [observation.ticket_id for observation in window]


async def test_a_ticket_committed_late_by_another_instance_joins_and_leaves_in_time() -> None:
    stored, cache = _Stored(), WindowCache()
    stored.add(1, 0)
    stored.add(2, 10)
    assert await _ids(cache, stored, 10) == [1, 2]

    stored.add(3, 30)
    stored.add(4, 29.5)  # created earlier, committed later by another instance
    assert await _ids(cache, stored, 30) == [1, 2, 4, 3]  # kept in time order

    # An hour on, the old ones are gone: also the late one, by its time, not its arrival.
    assert await _ids(cache, stored, 89.7) == [3]
    assert await _ids(cache, stored, 89.7, leave_out=3) == []
