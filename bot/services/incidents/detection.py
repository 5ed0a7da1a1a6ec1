"""Detection on every new ticket: clustering, links and suggestions, the spike test, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.incidents import Placement, SpikeVerdict, best_match, is_calm, judge
from bot.services.incidents.baseline import BaselineCache
from bot.services.incidents.common import (
    ABOUT_LENGTH,
    SAMPLE_TICKETS,
    AlertButtons,
    Detection,
    IncidentContext,
    short,
)
from bot.services.incidents.signatures import signature
from bot.services.incidents.window import WindowCache
from bot.services.outbox import enqueue_card_refresh, enqueue_text
from storage.detection_store import DetectionStore, NewTicket, OpenIncident
from storage.incident_models import IncidentAlert
from storage.incident_repository import IncidentRepository
from storage.models import Ticket
from storage.unit_of_work import UnitOfWork


class IncidentDetection:
    """Detection and alerts; owns the in-memory window and baseline caches of this process."""

    def __init__(self, context: IncidentContext, buttons: AlertButtons) -> None:
        self._context = context
        self._buttons = buttons
        self._windows = WindowCache()
        self._baselines = BaselineCache()

    async def observe(self, ticket_id: int) -> Detection | None:
        """Detection for one new ticket: cluster it, link it to a matching open incident (and
        tell its customer) or suggest one, and raise an alert for an improbable cluster.

        Runs once per new ticket, so it keeps to two statements on PostgreSQL
        (`DetectionStore`): one reads the ticket (and whether it was seen), the window's new
        rows (the rest is kept in memory) and the open incidents with their latest linked
        tickets; one stores the observation (and the link to a matching incident) and grows
        the cluster's alert. The messages of a link or a suggestion, the spike test's
        baseline (kept in memory, `BaselineCache`, read once in a while) and an alert add
        theirs."""
        config = self._context.config
        policy = config.policy
        async with self._context.database.unit_of_work() as uow:
            store = DetectionStore(uow.session)
            found = await store.read(
                ticket_id=ticket_id, window=policy.window, read_from=self._windows.read_from()
            )
            if found is None or not found.fresh_complaint:
                return None  # not a complaint, or seen already (a repeated event)
            ticket = found.ticket
            now = ticket.created_at
            text = signature(ticket.description or "")
            window = self._windows.topped_up(
                ticket.category, found.window, since=now - policy.window, now=now
            )
            placement = window.place(
                ticket_id=ticket_id,
                at=now,
                signature=text,
                threshold=config.cluster_threshold,
                leave_out=ticket_id,
            )
            incident, score = self._matching_incident(found.incidents, text)
            incident_id = incident.id if incident is not None else None
            linked = incident is not None and score >= config.link_threshold
            suggested = (
                incident_id
                if not linked and incident_id is not None and score >= config.suggest_threshold
                else None
            )
            alert_id = await store.store(
                ticket_id=ticket_id,
                category=ticket.category,
                at=now,
                signature=text,
                cluster_id=placement.cluster_id,
                size=placement.size,
                suggested_incident_id=suggested,
                link_to=incident_id if linked else None,
            )
            repo = IncidentRepository(uow.session)
            detection = Detection(placement.cluster_id, placement.size)
            if linked:
                assert incident is not None and incident_id is not None
                await enqueue_card_refresh(uow, ticket_id=ticket_id, now=now)
                await self._tell_known(uow, incident, ticket, now)
                detection = Detection(placement.cluster_id, placement.size, linked_to=incident_id)
            elif suggested is not None:
                await enqueue_card_refresh(uow, ticket_id=ticket_id, now=now)
                detection = Detection(placement.cluster_id, placement.size, suggested=suggested)
            if detection.linked_to is None and alert_id is None:
                detection = await self._spike(uow, repo, ticket, placement, detection, now)
        self._context.notify()
        return detection

    async def _spike(
        self,
        uow: UnitOfWork,
        repo: IncidentRepository,
        ticket: Ticket | NewTicket,
        placement: Placement,
        detection: Detection,
        now: datetime,
    ) -> Detection:
        """The spike test for the ticket's cluster, and its alert when improbable."""
        policy = self._context.config.policy
        if placement.size >= policy.min_tickets:
            counts = await self._baselines.counts(repo, ticket.category, now=now, policy=policy)
            verdict = judge(placement.size, counts, policy)
            if verdict.alert:
                raised = await self._raise_alert(
                    uow, repo, ticket, placement.cluster_id, placement.first_at, verdict, now
                )
                return Detection(
                    placement.cluster_id,
                    placement.size,
                    suggested=detection.suggested,
                    alert_id=raised.id if raised else None,
                    verdict=verdict,
                )
        return detection

    def _matching_incident(
        self, incidents: Sequence[OpenIncident], text: str
    ) -> tuple[OpenIncident | None, float]:
        """The open incident the ticket matches best (its title and its latest linked
        tickets) and how well. Being in the cluster an incident was declared from is not
        enough: clusters chain through the looser cluster threshold."""
        best: tuple[OpenIncident | None, float] = (None, 0.0)
        for incident in incidents:
            candidates = [incident.signature, *incident.linked]
            match = best_match(text, candidates, threshold=self._context.config.suggest_threshold)
            if match is not None and match[1] > best[1]:
                best = (incident, match[1])
        return best

    async def _raise_alert(
        self,
        uow: UnitOfWork,
        repo: IncidentRepository,
        ticket: Ticket | NewTicket,
        cluster_id: int,
        first_at: datetime,
        verdict: SpikeVerdict,
        now: datetime,
    ) -> IncidentAlert | None:
        members = await repo.cluster_ticket_ids(cluster_id=cluster_id)
        alert = IncidentAlert(
            cluster_id=cluster_id,
            category=ticket.category,
            first_ticket_at=first_at,
            last_ticket_at=now,
            alerted_at=now,
            count=verdict.count,
            usual_per_hour=verdict.usual_per_hour,
            p_value=verdict.p_value,
            sample_ticket_ids=members[-SAMPLE_TICKETS:],
        )
        if not await repo.add_alert(alert):
            return None  # a concurrent ticket of the same cluster raised it
        assert alert.id is not None
        seed = await uow.tickets.get(ticket_id=cluster_id)
        about = short((seed or ticket).description or "", ABOUT_LENGTH)
        minutes = max(1, round((now - first_at).total_seconds() / 60))
        lines = [
            self._context.staff(
                "incidents.alert.title",
                complaints=self._context.count("count.complaints", verdict.count),
                about=about,
                minutes=minutes,
                usual=f"{verdict.usual_per_hour:.1f}",
                category=self._context.category_title(ticket.category),
            )
        ]
        for sample_id in alert.sample_ticket_ids:
            sample = await uow.tickets.get(ticket_id=sample_id)
            if sample is not None:
                lines.append(
                    self._context.staff(
                        "incidents.alert.sample",
                        number=sample.number,
                        text=short(sample.description or "", ABOUT_LENGTH),
                    )
                )
        html = "\n".join(lines)
        for chat_id in self._context.alert_chats():
            await enqueue_text(
                uow,
                key=f"incident-alert:{alert.id}:{chat_id}",
                chat_id=chat_id,
                html=html,
                now=now,
                buttons=self._buttons.alert(alert.id, self._context.config.staff_locale),
            )
        return alert

    async def _tell_known(
        self, uow: UnitOfWork, incident: OpenIncident, ticket: NewTicket, now: datetime
    ) -> None:
        """Tell the customer of a new complaint linked to an open incident that it is known."""
        if ticket.telegram_id is None or ticket.locale is None:
            return
        await enqueue_text(
            uow,
            key=f"incident-known:{incident.id}:{ticket.id}",
            chat_id=ticket.telegram_id,
            html=self._context.catalogs.render(
                "incidents.customer.known",
                ticket.locale,
                number=ticket.number,
                text=incident.public_text,
            ),
            now=now,
            ticket_id=ticket.id,
        )

    async def calm_alerts(self) -> int:
        """All-clears for alerts whose cluster calmed down (no new ticket for a window);
        returns how many alerts were closed."""
        context = self._context
        now = context.clock.now()
        policy = context.config.policy
        closed = 0
        async with context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            for alert in await repo.open_alerts(last_before=now - policy.window):
                if not is_calm(alert.last_ticket_at, now, policy):
                    continue
                assert alert.id is not None
                if not await repo.claim_alert(alert_id=alert.id, status="calm", now=now):
                    continue
                closed += 1
                html = context.staff(
                    "incidents.alert.all_clear",
                    complaints=context.count("count.complaints", alert.count),
                    category=context.category_title(alert.category),
                )
                for chat_id in context.alert_chats():
                    await enqueue_text(
                        uow,
                        key=f"incident-calm:{alert.id}:{chat_id}",
                        chat_id=chat_id,
                        html=html,
                        now=now,
                    )
        context.notify()
        return closed
