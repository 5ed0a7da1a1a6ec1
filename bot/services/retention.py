"""The retention sweep: closed tickets older than the retention period are anonymised.

Anonymising blanks the same personal content an erasure does (see `bot/services/privacy.py`)
and keeps the figures; the customer's profile stays until they ask to erase it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.tickets import ActorKind, EventKind
from bot.services.privacy_config import PrivacyConfig
from bot.services.privacy_topics import handle_topics
from storage.unit_of_work import Database

RETENTION_EVERY = timedelta(days=1)


class RetentionSweep:
    def __init__(self, database: Database, clock: Clock, config: PrivacyConfig) -> None:
        self._database = database
        self._clock = clock
        self.config = config
        self._ran_at: datetime | None = None

    async def run_if_due(self) -> int | None:
        """The sweep once a day (the first time at start); None when not due."""
        if self.config.retention is None:
            return None
        now = self._clock.now()
        last = self._ran_at
        if last is not None and now - last < RETENTION_EVERY:
            return None
        self._ran_at = now
        return await self.run()

    async def run(self) -> int:
        """Anonymise closed tickets older than the retention period; returns how many."""
        if self.config.retention is None:
            return 0
        total = 0
        while True:
            now = self._clock.now()
            async with self._database.unit_of_work() as uow:
                store = uow.privacy
                tickets = await store.expired_tickets(
                    closed_before=now - self.config.retention, limit=self.config.batch_size
                )
                if not tickets:
                    return total
                ids = [t.id for t in tickets if t.id is not None]
                counts = await uow.scrubber.scrub_tickets(ids, reason="retention", now=now)
                topics = await handle_topics(uow, tickets, now, self.config)
                for ticket_id in ids:
                    await uow.events.add(
                        ticket_id=ticket_id,
                        at=now,
                        actor_kind=ActorKind.SYSTEM,
                        actor_id=None,
                        kind=EventKind.ANONYMISED,
                    )
                await store.record_event(
                    kind="retention",
                    customer_id=None,
                    actor_kind=ActorKind.SYSTEM.value,
                    actor_id=None,
                    at=now,
                    counts=counts.as_dict() | {"topics": topics},
                )
            total += len(ids)
            if len(ids) < self.config.batch_size:
                return total
