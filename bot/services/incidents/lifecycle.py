"""Alerts handled, incidents declared and changed, tickets linked and unlinked by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.incidents import IncidentStatus, format_incident_number
from bot.services.desk import AgentRef
from bot.services.incidents.common import (
    ABOUT_LENGTH,
    IncidentContext,
    IncidentError,
    IncidentFigures,
    IncidentView,
    LinkedView,
    link_ticket,
    median,
    open_incident,
    short,
)
from bot.services.incidents.signatures import signature
from storage.incident_models import Incident, IncidentAlert
from storage.incident_repository import IncidentRepository
from storage.models import Ticket


class IncidentLifecycle:
    def __init__(self, context: IncidentContext) -> None:
        self._context = context

    # ------------------------------------------------------------------------ alerts

    async def dismiss(self, alert_id: int, agent: AgentRef) -> IncidentAlert:
        now = self._context.clock.now()
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            alert = await repo.alert(alert_id=alert_id)
            if alert is None:
                raise IncidentError("incidents.error.no_alert")
            if not await repo.claim_alert(alert_id=alert_id, status="dismissed", now=now):
                raise IncidentError("incidents.error.alert_handled")
            alert.status = "dismissed"
            return alert

    async def alert_tickets(self, alert_id: int) -> tuple[IncidentAlert, Sequence[Ticket]]:
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            alert = await repo.alert(alert_id=alert_id)
            if alert is None:
                raise IncidentError("incidents.error.no_alert")
            tickets = []
            for ticket_id in await repo.cluster_ticket_ids(cluster_id=alert.cluster_id):
                ticket = await uow.tickets.get(ticket_id=ticket_id)
                if ticket is not None:
                    tickets.append(ticket)
            return alert, tickets

    # --------------------------------------------------------------------- incidents

    async def declare(
        self,
        *,
        agent: AgentRef,
        title: str | None = None,
        alert_id: int | None = None,
        ticket_id: int | None = None,
    ) -> Incident:
        """A new incident: from an alert (its cluster's tickets linked) or by hand with a title
        (and the ticket whose topic it was declared in, if any)."""
        now = self._context.clock.now()
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            alert: IncidentAlert | None = None
            members: list[int] = []
            if alert_id is not None:
                alert = await repo.alert(alert_id=alert_id, lock=True)
                if alert is None:
                    raise IncidentError("incidents.error.no_alert")
                if alert.status == "declared" and alert.incident_id is not None:
                    raise IncidentError("incidents.error.alert_handled")
                if alert.status == "dismissed":
                    raise IncidentError("incidents.error.alert_handled")
                members = await repo.cluster_ticket_ids(cluster_id=alert.cluster_id)
                seed = await uow.tickets.get(ticket_id=alert.cluster_id)
                title = title or short((seed.description if seed else "") or "", ABOUT_LENGTH)
            elif ticket_id is not None:
                members = [ticket_id]
            title = short(title or "", 200)
            if not title:
                raise IncidentError("incidents.usage.incident")
            number = format_incident_number(await uow.tickets.next_sequence(name="incident"))
            sig_source = [title]
            category: str | None = alert.category if alert else None
            if alert is None and ticket_id is not None:
                ticket = await uow.tickets.get(ticket_id=ticket_id)
                if ticket is not None:
                    category = ticket.category
                    sig_source.append(ticket.description or "")
            incident = await repo.add(
                Incident(
                    number=number,
                    title=title,
                    public_text=title,
                    category=category,
                    signature=signature(" ".join(sig_source)),
                    declared_by=agent.user_id,
                    first_ticket_at=alert.first_ticket_at if alert else None,
                    alerted_at=alert.alerted_at if alert else None,
                    declared_at=now,
                    updated_at=now,
                )
            )
            assert incident.id is not None
            if alert is not None:
                alert.status = "declared"
                alert.incident_id = incident.id
                alert.closed_at = now
                uow.session.add(alert)
            for member in members:
                ticket = await uow.tickets.get(ticket_id=member)
                if ticket is not None and await repo.link_of(ticket_id=member) is None:
                    how = "cluster" if alert is not None else "manual"
                    await link_ticket(
                        uow, repo, incident.id, ticket, how=how, by=agent.user_id, now=now
                    )
        self._context.notify()
        return incident

    async def set_topic(
        self, incident_id: int, *, topic_id: int | None, card_message_id: int
    ) -> None:
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await repo.get(incident_id=incident_id)
            if incident is not None:
                incident.topic_id = topic_id
                incident.card_message_id = card_message_id
                await repo.save(incident)

    async def by_topic(self, topic_id: int) -> Incident | None:
        async with self._context.database.unit_of_work() as uow:
            return await IncidentRepository(uow.session).by_topic(topic_id=topic_id)

    async def by_number(self, number: str) -> Incident | None:
        async with self._context.database.unit_of_work() as uow:
            return await IncidentRepository(uow.session).by_number(number=number)

    async def view(self, incident_id: int) -> IncidentView:
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await repo.get(incident_id=incident_id)
            if incident is None:
                raise IncidentError("incidents.error.no_incident")
            linked = await repo.linked(incident_id=incident_id)
            return IncidentView(
                incident,
                [LinkedView(t.number, t.status, t.id or 0) for _link, t, _c in linked],
            )

    async def open_views(self) -> list[IncidentView]:
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            views = []
            for incident in await repo.open_incidents():
                assert incident.id is not None
                linked = await repo.linked(incident_id=incident.id)
                views.append(
                    IncidentView(
                        incident,
                        [LinkedView(t.number, t.status, t.id or 0) for _l, t, _c in linked],
                    )
                )
            return views

    async def for_ticket(self, ticket_id: int) -> tuple[Incident | None, Incident | None]:
        """The incident a ticket is linked to, and the open one suggested for it (card)."""
        async with self._context.database.reading() as uow:
            linked, suggested = await IncidentRepository(uow.session).of_ticket(ticket_id=ticket_id)
        if linked is not None:
            return linked, None
        if suggested is None or suggested.status not in IncidentStatus.OPEN:
            return None, None
        return None, suggested

    async def set_public_text(self, incident_id: int, text: str) -> Incident:
        now = self._context.clock.now()
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await open_incident(repo, incident_id)
            incident.public_text = text
            incident.updated_at = now
            await repo.save(incident)
            return incident

    async def set_status(self, incident_id: int, status: str) -> Incident:
        if status not in IncidentStatus.OPEN:
            raise IncidentError("incidents.usage.status")
        now = self._context.clock.now()
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await open_incident(repo, incident_id)
            order = IncidentStatus.ORDER
            if order.index(status) <= order.index(incident.status):
                raise IncidentError(
                    "incidents.error.status_back",
                    current=self._context.staff_plain(f"incidents.status.{incident.status}"),
                )
            incident.status = IncidentStatus(status)
            incident.updated_at = now
            await repo.save(incident)
            return incident

    # ------------------------------------------------------------------------- links

    async def link(self, number: str, ticket_id: int, agent: AgentRef) -> Incident:
        now = self._context.clock.now()
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            found = await repo.by_number(number=number)
            if found is None or found.id is None:
                raise IncidentError("incidents.error.unknown_number", number=number)
            incident = await open_incident(repo, found.id)
            assert incident.id is not None
            ticket = await uow.tickets.get(ticket_id=ticket_id)
            if ticket is None:
                raise IncidentError("desk.error.no_ticket")
            current = await repo.link_of(ticket_id=ticket_id)
            if current is not None:
                other = await repo.get(incident_id=current.incident_id)
                raise IncidentError(
                    "incidents.error.already_linked",
                    number=ticket.number,
                    incident=other.number if other else "?",
                )
            await link_ticket(
                uow, repo, incident.id, ticket, how="manual", by=agent.user_id, now=now
            )
        self._context.notify()
        return incident

    async def unlink(self, ticket_id: int) -> tuple[Incident, Ticket]:
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            ticket = await uow.tickets.get(ticket_id=ticket_id)
            link = await repo.link_of(ticket_id=ticket_id)
            if ticket is None or link is None:
                raise IncidentError("incidents.error.not_linked")
            incident = await repo.get(incident_id=link.incident_id)
            assert incident is not None
            await repo.unlink(link)
            observation = await repo.observation(ticket_id=ticket_id)
            if observation is not None and observation.suggested_incident_id is not None:
                observation.suggested_incident_id = None
                uow.session.add(observation)
            return incident, ticket

    # -------------------------------------------------------------------- statistics

    async def figures(self, *, since: datetime, until: datetime) -> IncidentFigures:
        """Incidents declared in [since, until): how many, their linked tickets, the median
        time to detect (cluster's first ticket to the alert) and to resolve (detection, or
        the declaration of an incident declared by hand, to resolution)."""
        async with self._context.database.unit_of_work() as uow:
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
