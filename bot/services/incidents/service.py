"""Mass incidents as use cases: detection on every new ticket, alerts, declaring, linking,
updates and resolution fanned out to the linked customers through the outbox.

Messages go through the outbox in the unit of work of their cause: alerts and all-clears
(`text`), the notice to a customer whose new complaint matches an open incident (`text`, sent
at once), updates (`incident_update`, one row per linked customer) and the resolution
(`incident_resolved`, one row per linked open ticket, through the desk's own resolve use case
so surveys follow as for any resolved ticket). The keys make a repeated action send nothing
twice, and rows already written survive a restart: a fan-out interrupted after its commit is
simply delivered later; a resolution interrupted between tickets is finished by the sweep.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.incidents import is_calm
from bot.services.incidents.common import IncidentFigures, median
from bot.services.incidents.detection import IncidentDetection
from bot.services.incidents.fanout import IncidentFanout
from bot.services.incidents.lifecycle import IncidentLifecycle
from bot.services.outbox import enqueue_text
from storage.incident_repository import IncidentRepository


class IncidentService(IncidentDetection, IncidentLifecycle, IncidentFanout):
    async def sweep(self) -> int:
        """All-clears for alerts whose cluster calmed down (no new ticket for a window) and
        resolutions left unfinished by a restart; returns how many alerts were closed."""
        now = self._clock.now()
        policy = self.config.policy
        closed = 0
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            for alert in await repo.open_alerts(last_before=now - policy.window):
                if not is_calm(alert.last_ticket_at, now, policy):
                    continue
                assert alert.id is not None
                if not await repo.claim_alert(alert_id=alert.id, status="calm", now=now):
                    continue
                closed += 1
                html = self._staff(
                    "incidents.alert.all_clear",
                    complaints=self._count("count.complaints", alert.count),
                    category=self._category_titles.get(alert.category, alert.category),
                )
                for chat_id in self._alert_chats():
                    await enqueue_text(
                        uow,
                        key=f"incident-calm:{alert.id}:{chat_id}",
                        chat_id=chat_id,
                        html=html,
                        now=now,
                    )
            unfinished = await repo.resolved_with_unsettled()
        for incident_id in unfinished:
            await self._settle(incident_id)
        self._notify()
        return closed

    # ------------------------------------------------------------------- statistics

    async def figures(self, *, since: datetime, until: datetime) -> IncidentFigures:
        """Incidents declared in [since, until): how many, their linked tickets, the median
        time to detect (cluster's first ticket to the alert) and to resolve (detection, or
        the declaration of an incident declared by hand, to resolution)."""
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incidents = list(await repo.between(since=since, until=until))
            linked = await repo.count_linked(incident_ids=[i.id for i in incidents if i.id])
        detect = [
            i.alerted_at - i.first_ticket_at
            for i in incidents
            if i.alerted_at is not None and i.first_ticket_at is not None
        ]
        resolve = [
            i.resolved_at - (i.first_ticket_at or i.declared_at)
            for i in incidents
            if i.resolved_at is not None
        ]
        return IncidentFigures(len(incidents), linked, median(detect), median(resolve))
