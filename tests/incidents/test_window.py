"""The in-memory window of detection: topped up from the database, cut off by time, also
when another instance commits a ticket late (out of order); and its matrix of masks places a
ticket exactly as the plain rule does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.incidents import CLUSTER_THRESHOLD, place
from bot.services.incidents.signatures import signature
from bot.services.incidents.window import Window, WindowCache
from storage.detection_store import window_start

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PHRASES = [
    "card payment declined at checkout",
    "my card is declined on payment",
    "charged twice for one order",
    "courier did not come today",
    "refund has not arrived",
    "",
]


class _Stored:
    """What the observations table holds (what detection's read takes the window from)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, datetime, str, int]] = []

    def add(self, ticket_id: int, minutes: float, text: str = "", cluster: int = 0) -> None:
        at = START + timedelta(minutes=minutes)
        self.rows.append((ticket_id, at, text or f"text {ticket_id}", cluster or ticket_id))

    def since(self, moment: datetime) -> list[tuple[int, datetime, str, int]]:
        return [row for row in self.rows if row[1] >= moment]


async def _window(cache: WindowCache, stored: _Stored, minutes: float) -> Window:
    """As detection does: read the rows from where the cache asks, then top it up."""
    now = START + timedelta(minutes=minutes)
    since = now - HOUR
    rows = stored.since(window_start(cache.read_from(), "payment", since))
    return cache.topped_up("payment", rows, since=since, now=now)


async def _ids(cache: WindowCache, stored: _Stored, minutes: float) -> list[int]:
    window = await _window(cache, stored, minutes)
    return [observation.ticket_id for observation in window.observations()]


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


async def test_a_new_process_rebuilds_the_window_from_the_database() -> None:
    stored, running = _Stored(), WindowCache()
    for i in range(1, 40):
        stored.add(i, i, signature(PHRASES[i % 3]), cluster=i % 3 + 1)
        await _window(running, stored, i)
    text = signature("card declined when paying")
    before = (await _window(running, stored, 45)).place(
        ticket_id=99, at=START + timedelta(minutes=45), signature=text, threshold=22
    )
    restarted = (await _window(WindowCache(), stored, 45)).place(
        ticket_id=99, at=START + timedelta(minutes=45), signature=text, threshold=22
    )
    assert before == restarted and before.size > 1


# Each step: a ticket arriving (its phrase, its cluster among a few, how late it is
# committed in minutes) and how far the clock moves on.
_steps = st.lists(
    st.tuples(
        st.sampled_from(PHRASES),
        st.integers(1, 6),
        st.sampled_from([0.0, 0.0, 0.0, 0.5]),
        st.floats(0, 20),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(steps=_steps, query=st.sampled_from(PHRASES), leave_out=st.booleans())
async def test_the_matrix_places_a_ticket_as_the_plain_rule(
    steps: list[tuple[str, int, float, float]], query: str, leave_out: bool
) -> None:
    stored, cache = _Stored(), WindowCache()
    minutes = 0.0
    for ticket_id, (phrase, cluster, late, wait) in enumerate(steps, start=1):
        stored.add(ticket_id, minutes - late, signature(phrase), cluster=cluster)
        minutes += wait
        window = await _window(cache, stored, minutes)
        now = START + timedelta(minutes=minutes)
        kept = window.observations()
        assert {o.ticket_id for o in kept} == {
            row[0] for row in stored.rows if row[1] >= now - HOUR
        }
        assert all(a.at <= b.at for a, b in pairwise(kept))  # time order
        observations = [o for o in kept if not (leave_out and o.ticket_id == 1)]
        for threshold in (CLUSTER_THRESHOLD, 60.0):
            assert window.place(
                ticket_id=1000,
                at=now,
                signature=signature(query),
                threshold=threshold,
                leave_out=1 if leave_out else None,
            ) == place(
                ticket_id=1000,
                at=now,
                signature=signature(query),
                window=observations,
                threshold=threshold,
            )


async def test_the_matrix_stays_right_as_tickets_come_and_leave_for_hours() -> None:
    stored, cache = _Stored(), WindowCache()
    query = signature("card declined when paying")
    for ticket_id in range(1, 400):
        minutes = ticket_id * 0.75  # 80 an hour: the arrays grow, fill and are compacted
        late = 0.5 if ticket_id % 17 == 0 else 0.0
        stored.add(ticket_id, minutes - late, signature(PHRASES[ticket_id % 5]), ticket_id % 7)
        window = await _window(cache, stored, minutes)
        now = START + timedelta(minutes=minutes)
        assert window.place(
            ticket_id=1000, at=now, signature=query, threshold=CLUSTER_THRESHOLD
        ) == place(ticket_id=1000, at=now, signature=query, window=window.observations())
    assert 70 < len(window.observations()) < 90
