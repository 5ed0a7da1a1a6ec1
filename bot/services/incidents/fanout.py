"""What goes to all of an incident's customers: updates and the resolution."""

from __future__ import annotations

from bot.domain.incidents import IncidentStatus
from bot.domain.tickets import IllegalTransition, ResolutionType
from bot.services.desk import AgentRef, DeskError
from bot.services.desk.resolve import Resolve
from bot.services.incidents.common import (
    OPEN_TICKET_STATUSES,
    IncidentContext,
    IncidentError,
    Resolution,
    open_incident,
)
from bot.services.outbox import INCIDENT_RESOLVED, INCIDENT_UPDATE, enqueue_texts
from storage.incident_models import IncidentUpdate
from storage.incident_repository import IncidentRepository


class IncidentFanout:
    """Updates and resolutions; each linked ticket is resolved by the desk's `Resolve`."""

    def __init__(self, context: IncidentContext, resolve_ticket: Resolve) -> None:
        self._context = context
        self._resolve_ticket = resolve_ticket

    async def post_update(self, incident_id: int, text: str, agent: AgentRef) -> int:
        """Send an update to every linked customer (once each); returns how many."""
        text = text.strip()
        if not text:
            raise IncidentError("incidents.usage.update")
        now = self._context.clock.now()
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await open_incident(repo, incident_id)
            update = await repo.add_update(
                IncidentUpdate(incident_id=incident_id, text=text, author_id=agent.user_id, at=now)
            )
            customers: set[int] = set()
            messages: list[tuple[str, int, str, int | None]] = []
            for customer_id, chat_id, locale, ticket_id, number in await repo.recipients(
                incident_id=incident_id
            ):
                if customer_id in customers:
                    continue
                customers.add(customer_id)
                html = self._context.catalogs.render(
                    "incidents.customer.update",
                    locale,
                    number=number,
                    title=incident.title,
                    text=text,
                )
                key = f"incident-update:{update.id}:{customer_id}"
                messages.append((key, chat_id, html, ticket_id))
            await enqueue_texts(uow, messages=messages, kind=INCIDENT_UPDATE, now=now)
            update.recipients = len(customers)
            uow.session.add(update)
        self._context.notify()
        return len(customers)

    async def resolve(
        self, incident_id: int, agent: AgentRef, *, resolution: ResolutionType, text: str
    ) -> Resolution:
        """Resolve the incident and every linked ticket still open (one message each, through
        the desk's resolve use case); tickets resolved or closed already are left alone."""
        text = text.strip()
        if not text:
            raise IncidentError("incidents.usage.resolve")
        now = self._context.clock.now()
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await open_incident(repo, incident_id)
            incident.status = IncidentStatus.RESOLVED
            incident.resolved_at = now
            incident.resolution_type = resolution
            incident.resolution_text = text
            incident.resolved_by = agent.user_id
            incident.updated_at = now
            await repo.save(incident)
        resolved, left_alone = await self._settle(incident_id, agent)
        return Resolution(incident, resolved, left_alone)

    async def _settle(self, incident_id: int, agent: AgentRef | None = None) -> tuple[int, int]:
        """Apply a resolved incident's decision to each linked ticket not done yet (by the
        agent who resolved it); tickets no longer open are left alone."""
        async with self._context.database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await repo.get(incident_id=incident_id)
            pending = await repo.unsettled(incident_id=incident_id)
            if agent is None and incident is not None and incident.resolved_by is not None:
                known = await uow.agents.get(telegram_id=incident.resolved_by)
                if known is not None:
                    agent = AgentRef(known.telegram_id, known.display_name, known.username)
        if incident is None or incident.resolution_type is None:
            return 0, 0
        if agent is None:
            name = self._context.staff_plain("incidents.agent_name")
            agent = AgentRef(incident.resolved_by or 0, name)
        resolution = incident.resolution_type
        resolved = left_alone = 0
        for ticket_id in pending:
            async with self._context.database.unit_of_work() as uow:
                ticket = await uow.tickets.get(ticket_id=ticket_id)
                still_open = ticket is not None and ticket.status in OPEN_TICKET_STATUSES
            done = False
            if still_open:
                try:
                    await self._resolve_ticket(
                        ticket_id,
                        agent,
                        resolution=resolution,
                        text=incident.resolution_text or "",
                        cause=f"incident-resolve:{incident_id}:{ticket_id}",
                        customer_kind=INCIDENT_RESOLVED,
                    )
                    done = True
                except (IllegalTransition, DeskError):
                    pass  # resolved or closed in the meantime (by an agent, or a sweep)
            resolved += done
            left_alone += not done
            async with self._context.database.unit_of_work() as uow:
                await IncidentRepository(uow.session).settle(
                    ticket_id=ticket_id, now=self._context.clock.now()
                )
        self._context.notify()
        return resolved, left_alone

    async def finish_resolutions(self) -> None:
        """Settle the tickets of resolutions left unfinished by a restart."""
        async with self._context.database.unit_of_work() as uow:
            unfinished = await IncidentRepository(uow.session).resolved_with_unsettled()
        for incident_id in unfinished:
            await self._settle(incident_id)
