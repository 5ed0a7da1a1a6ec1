"""The spike test's baseline read ahead and kept in memory counts exactly what counting the
spans in the database would, as the clock moves on (and back), and after a restart."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.domain.incidents import SpikePolicy, baseline_spans
from bot.services.incidents.baseline import READ_AHEAD, BaselineCache
from storage.incident_models import IncidentObservation
from storage.incident_repository import IncidentRepository
from storage.unit_of_work import Database
from tests.conftest import START

# How the clock moves between spike tests: within what was read, past it, far past it, back.
STEPS = [timedelta(seconds=5), timedelta(minutes=3), READ_AHEAD, 2 * READ_AHEAD]
STEPS += [timedelta(minutes=50), timedelta(hours=2), -READ_AHEAD]


def _counted(times: list[datetime], now: datetime, policy: SpikePolicy) -> list[int]:
    return [sum(start <= t < end for t in times) for start, end in baseline_spans(now, policy)]


async def test_the_kept_baseline_counts_as_the_database_would(any_database: Database) -> None:
    rng = random.Random(13)
    policy = SpikePolicy(window=timedelta(minutes=30))
    times: dict[str, list[datetime]] = {"payment": [], "delivery": []}
    rows = []
    for ticket_id in range(1, 1501):
        category = rng.choice(list(times))
        at = START - timedelta(days=7 * rng.uniform(0.8, 4.2))
        times[category].append(at)
        rows.append(
            {
                "ticket_id": ticket_id,
                "category": category,
                "created_at": at,
                "signature": "card declin",
                "cluster_id": ticket_id,
            }
        )
    await any_database.run_short(lambda c: c.execute(insert(IncidentObservation), rows))

    cache = BaselineCache()
    now = START
    for _ in range(120):
        now += rng.choice(STEPS)
        category = rng.choice(list(times))
        async with any_database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            kept = await cache.counts(repo, category, now=now, policy=policy)
            restarted = await BaselineCache().counts(repo, category, now=now, policy=policy)
        assert kept == restarted == _counted(times[category], now, policy)
    assert sum(_counted(times["payment"], now, policy)) > 0  # the spans were not all empty
