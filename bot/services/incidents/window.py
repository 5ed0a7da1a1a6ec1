"""The recent window of observed tickets per category, kept in memory."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.incidents import Observation
from storage.incident_repository import IncidentRepository

# Rows committed by another instance are read again for this long after the last sync: a
# ticket is committed well within it of its `created_at`.
SYNC_OVERLAP = timedelta(minutes=1)


class WindowCache:
    """The recent window's observations per category, kept in memory and topped up from the
    database with only the rows since the last read (minus `SYNC_OVERLAP`), so detection
    does not read and parse the whole window for every ticket."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[int, Observation]] = {}
        self._synced: dict[str, datetime] = {}

    async def window(
        self,
        repo: IncidentRepository,
        category: str,
        *,
        since: datetime,
        now: datetime,
        leave_out: int | None = None,
    ) -> list[Observation]:
        """The category's observations since `since`, but the ticket `leave_out`."""
        rows = self._rows.setdefault(category, {})
        synced = self._synced.get(category)
        start = since if synced is None else max(since, synced - SYNC_OVERLAP)
        for tid, at, sig, cluster in await repo.window(category=category, since=start):
            rows[tid] = Observation(tid, category, at, sig, cluster)
        self._synced[category] = max(now, synced) if synced else now
        while rows:
            oldest = next(iter(rows))
            if rows[oldest].at >= since:
                break
            del rows[oldest]
        return [o for o in rows.values() if o.at >= since and o.ticket_id != leave_out]
