"""The "still working on it" sweep: customers waiting a long time without an answer hear from us."""

from __future__ import annotations

from datetime import datetime

from bot.locales.catalog import Catalogs
from bot.services.sweep_config import SweepConfig
from bot.services.sweep_messages import text_payload
from storage.sweep_repository import EventDraft, OutboxDraft
from storage.unit_of_work import Database


class StillWorkingSweep:
    def __init__(self, database: Database, catalogs: Catalogs, config: SweepConfig) -> None:
        self._database = database
        self._catalogs = catalogs
        self._config = config

    async def run(self, now: datetime) -> int:
        """Tell customers waiting ``still_working_after`` without an answer that we are on it.

        Each ticket is checked once per period: when staff answered within the period the
        next check moves to one period after that answer, otherwise the message is queued
        and the next check is one period later.
        """
        period = self._config.still_working_after
        async with self._database.unit_of_work() as uow:
            repo = uow.sweeps
            candidates = await repo.still_working_candidates(
                now=now, period=period, limit=self._config.batch_size
            )
            if not candidates:
                return 0
            activity = await repo.last_staff_activity(ticket_ids=[c.id for c in candidates])
            next_checks: dict[int, datetime] = {}
            due_now: list[int] = []
            for candidate in candidates:
                answered = [candidate.created_at, candidate.first_response_at]
                answered.append(activity.get(candidate.id))
                last = max(moment for moment in answered if moment is not None)
                if last + period > now:
                    next_checks[candidate.id] = last + period
                else:
                    next_checks[candidate.id] = now + period
                    due_now.append(candidate.id)
            await repo.set_still_working_at(next_checks=next_checks)
            tickets = await repo.tickets_by_ids(ticket_ids=due_now)
            recipients = await repo.recipients(customer_ids=[t.customer_id for t in tickets])
            messages: list[OutboxDraft] = []
            for ticket in tickets:
                recipient = recipients.get(ticket.customer_id)
                if recipient is None or not recipient.reachable:
                    continue
                messages.append(
                    OutboxDraft(
                        key=f"still-working:{ticket.id}:{now.isoformat()}",
                        chat_id=recipient.telegram_id,
                        ticket_id=ticket.id,
                        payload=text_payload(
                            self._catalogs.render(
                                "sla.still_working", recipient.locale, number=ticket.number
                            )
                        ),
                    )
                )
            await repo.add_events(
                events=[
                    EventDraft(ticket_id=ticket.id, kind="still_working", data={})
                    for ticket in tickets
                ],
                at=now,
            )
            await repo.enqueue(messages=messages, now=now)
        return len(tickets)
