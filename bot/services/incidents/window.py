"""The recent window of observed tickets per category, kept in memory as a matrix of masks.

What: per category, the window's observations in time order and, beside them in numpy arrays,
each one's hashed 3-gram mask (`bot.domain.incidents.hashed_trigrams`) as a column of 64
machine words, its norm and its cluster. `Window.place` gives exactly the placement that
`bot.domain.incidents.place` gives for the same observations (the plain rule, kept as the
reference; `tests/incidents/test_window.py` compares the two on random windows).

Why: placing a new ticket compares it with every ticket of its category in the window (2,000
in the benchmark). The plain rule does that in a Python loop of big-integer operations (about
1-2 ms a ticket); here it is one AND and popcount over only the words the new ticket's mask
uses, and the cluster's size is one comparison of the clusters' column (about 0.1 ms; numbers
in docs/benchmarks.md, "Mass incidents").

Price: 512 bytes of masks per ticket in the window (about 1 MB for 2,000, up to twice that
while the arrays have room to grow), numpy, and this module's bookkeeping (a row that left
the window keeps its column until the arrays are compacted).

Nothing here is the source of truth, so restarts and several instances stay correct: every
call first tops the state up from the database with the rows committed since the last read
(minus `SYNC_OVERLAP`, so a row another instance committed a little late is still read; one
that lands before the newest row kept rebuilds the arrays in time order), then cuts off what
left the window. A new process starts empty and reads the whole window on its first ticket.
Rows are never changed once written, but for an erasure blanking a signature: a blanked text
kept here is still compared until it leaves the window (at most its length).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from bot.domain.incidents import MASK_BITS, Observation, Placement, alone, hashed_trigrams

# Rows committed by another instance are read again for this long after the last sync: a
# ticket is committed well within it of its `created_at`.
SYNC_OVERLAP = timedelta(minutes=1)
WORDS = MASK_BITS // 64
_MIN_CAPACITY = 64

Words = npt.NDArray[np.uint64]


def _words(mask: int) -> Words:
    return np.frombuffer(mask.to_bytes(MASK_BITS // 8, "little"), dtype=np.uint64)


class Window:
    """One category's window: observations in time order, their masks, norms and clusters.

    Live rows are `[_start, len(_observations))`; array column `i` is `_observations[i]`."""

    def __init__(self) -> None:
        self._observations: list[Observation] = []
        self._ids: set[int] = set()
        self._start = 0
        self._masks: Words = np.zeros((WORDS, _MIN_CAPACITY), dtype=np.uint64)
        self._norms = np.zeros(_MIN_CAPACITY)
        self._clusters = np.zeros(_MIN_CAPACITY, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._observations) - self._start

    def observations(self) -> list[Observation]:
        """The window's observations in time order."""
        return self._observations[self._start :]

    def add(self, rows: Sequence[tuple[int, datetime, str, int]], category: str) -> None:
        """Rows read from the database (ticket id, time, signature, cluster); those already
        kept are skipped."""
        fresh = sorted(
            (
                Observation(tid, category, at, sig, cluster)
                for tid, at, sig, cluster in rows
                if tid not in self._ids
            ),
            key=lambda o: o.at,
        )
        if not fresh:
            return
        self._ids.update(o.ticket_id for o in fresh)
        if len(self) and fresh[0].at < self._observations[-1].at:
            # Another instance's row, committed late: rebuild in time order.
            fresh = sorted([*self.observations(), *fresh], key=lambda o: o.at)
            self._observations, self._start = [], 0
        self._append(fresh)

    def drop_before(self, since: datetime) -> None:
        observations = self._observations
        while self._start < len(observations) and observations[self._start].at < since:
            self._ids.discard(observations[self._start].ticket_id)
            self._start += 1

    def place(
        self,
        *,
        ticket_id: int,
        at: datetime,
        signature: str,
        threshold: float,
        leave_out: int | None = None,
    ) -> Placement:
        """`bot.domain.incidents.place` over this window (but the ticket `leave_out`)."""
        mask, norm = hashed_trigrams(signature)
        live = slice(self._start, len(self._observations))
        skip = self._position(leave_out)
        if not mask or len(self) - (skip is not None) == 0:
            return alone(ticket_id, at)
        query = _words(mask)
        used = np.flatnonzero(query)
        common = np.bitwise_count(self._masks[used, live] & query[used, None])
        scores = common.sum(axis=0, dtype=np.uint32) * self._norms[live]
        if skip is not None:
            scores[skip] = -1.0
        index = int(scores.argmax())  # the first of equals, as `best_match`
        score = 100.0 * float(scores[index]) * norm
        if score < threshold:
            return alone(ticket_id, at)
        cluster = int(self._clusters[self._start + index])
        members = self._clusters[live] == cluster
        if skip is not None:
            members[skip] = False
        first = self._observations[self._start + int(members.argmax())].at
        return Placement(
            cluster_id=cluster,
            size=int(np.count_nonzero(members)) + 1,
            first_at=min(first, at),
            similarity=score,
        )

    def _position(self, ticket_id: int | None) -> int | None:
        if ticket_id is None or ticket_id not in self._ids:
            return None
        live = self.observations()
        return next(i for i, o in enumerate(live) if o.ticket_id == ticket_id)

    def _append(self, fresh: list[Observation]) -> None:
        end = len(self._observations)
        if end + len(fresh) > self._masks.shape[1]:
            end = self._compact(len(self) + len(fresh))
        added = slice(end, end + len(fresh))
        columns = [hashed_trigrams(o.signature) for o in fresh]
        self._masks[:, added] = np.stack([_words(mask) for mask, _ in columns], axis=1)
        self._norms[added] = [norm for _, norm in columns]
        self._clusters[added] = [o.cluster_id for o in fresh]
        self._observations.extend(fresh)

    def _compact(self, needed: int) -> int:
        """Move the live columns to the front of arrays with room for twice `needed`."""
        capacity = max(_MIN_CAPACITY, 2 * needed)
        live = slice(self._start, len(self._observations))
        count = len(self)
        masks: Words = np.zeros((WORDS, capacity), dtype=np.uint64)
        masks[:, :count] = self._masks[:, live]
        norms = np.zeros(capacity)
        norms[:count] = self._norms[live]
        clusters = np.zeros(capacity, dtype=np.int64)
        clusters[:count] = self._clusters[live]
        self._masks, self._norms, self._clusters = masks, norms, clusters
        self._observations, self._start = self.observations(), 0
        return count


class WindowCache:
    """The recent window per category, topped up from the database with only the rows since
    the last read (minus `SYNC_OVERLAP`), so detection does not read and parse the whole
    window for every ticket."""

    def __init__(self) -> None:
        self._windows: dict[str, Window] = {}
        self._synced: dict[str, datetime] = {}

    def read_from(self) -> dict[str, datetime]:
        """Per category kept, the time from which the database's rows are to be read again:
        the last read minus `SYNC_OVERLAP` (a category not kept reads its whole window)."""
        return {category: synced - SYNC_OVERLAP for category, synced in self._synced.items()}

    def topped_up(
        self,
        category: str,
        rows: Sequence[tuple[int, datetime, str, int]],
        *,
        since: datetime,
        now: datetime,
    ) -> Window:
        """The category's window of observations since `since`, with `rows` read from the
        database at `now` from `window_start(self.read_from(), category, since)` on."""
        window = self._windows.setdefault(category, Window())
        window.add(rows, category)
        synced = self._synced.get(category)
        self._synced[category] = max(now, synced) if synced else now
        window.drop_before(since)
        return window
