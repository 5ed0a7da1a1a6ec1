"""A ticket card's incident line: the incident the ticket is linked to, or one it resembles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.services.desk import CardData, IncidentRef
from storage.incident_models import Incident

if TYPE_CHECKING:
    from bot.telegram.staff.card import CardStyle


class IncidentLookup(Protocol):
    async def for_ticket(self, ticket_id: int) -> tuple[Incident | None, Incident | None]: ...


async def incident_refs(
    data: CardData, incidents: IncidentLookup | None
) -> tuple[IncidentRef | None, IncidentRef | None]:
    """The incident the ticket is linked to and the one it resembles, for its card."""
    if incidents is None:
        return None, None
    linked, suggested = await incidents.for_ticket(data.ticket.id)
    return _ref(linked), _ref(suggested)


def _ref(incident: Incident | None) -> IncidentRef | None:
    return IncidentRef(incident.number, incident.title) if incident is not None else None


def incident_text(data: CardData, style: CardStyle) -> str:
    """The card's incident line, or "" when the ticket has nothing to do with one."""
    linked = data.related.incident
    if linked is not None:
        return style.text("incidents.ticket_card.linked", number=linked.number, title=linked.title)
    suggested = data.related.suggested_incident
    if suggested is not None:
        return style.text(
            "incidents.ticket_card.suggested", number=suggested.number, title=suggested.title
        )
    return ""
