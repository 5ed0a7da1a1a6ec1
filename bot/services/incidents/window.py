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
        newest = next(reversed(rows.values())).at if rows else None
        in_order = True
        for tid, at, sig, cluster in await repo.window(category=category, since=start):
            if newest is not None and at < newest and tid not in rows:
                in_order = False  # another instance's row, committed late
            rows[tid] = Observation(tid, category, at, sig, cluster)
            newest = at if newest is None else max(newest, at)
        if not in_order:  # kept in time order, so the old end is cut off at the front
            rows = self._rows[category] = dict(sorted(rows.items(), key=lambda i: i[1].at))
        self._synced[category] = max(now, synced) if synced else now
        while rows:
            oldest = next(iter(rows))
            if rows[oldest].at >= since:
                break
            del rows[oldest]
        if leave_out in rows:
            return [o for o in rows.values() if o.ticket_id != leave_out]
        return list(rows.values())
