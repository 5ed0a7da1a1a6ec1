"""A ticket card's incident line: the incident the ticket is linked to, or one it resembles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.services.desk import CardData
from storage.incident_models import Incident

if TYPE_CHECKING:
    from bot.telegram.staff.card import CardStyle

LINKED_KEY = "incident"
SUGGESTED_KEY = "incident_suggested"


class IncidentLookup(Protocol):
    async def for_ticket(self, ticket_id: int) -> tuple[Incident | None, Incident | None]: ...


async def attach_incident(data: CardData, incidents: IncidentLookup | None) -> None:
    if incidents is None or data.ticket.id is None:
        return
    linked, suggested = await incidents.for_ticket(data.ticket.id)
    data.extra[LINKED_KEY] = linked
    data.extra[SUGGESTED_KEY] = suggested


def incident_text(data: CardData, style: CardStyle) -> str:
    """The card's incident line, or "" when the ticket has nothing to do with one."""
    linked = data.extra.get(LINKED_KEY)
    if isinstance(linked, Incident):
        return style.text("incidents.ticket_card.linked", number=linked.number, title=linked.title)
    suggested = data.extra.get(SUGGESTED_KEY)
    if isinstance(suggested, Incident):
        return style.text(
            "incidents.ticket_card.suggested", number=suggested.number, title=suggested.title
        )
    return ""
