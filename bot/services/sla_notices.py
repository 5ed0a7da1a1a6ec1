"""What the warnings and breach digests have in common: who they name, what they record."""

from __future__ import annotations

from collections.abc import Sequence

from bot.locales.catalog import Markup
from bot.services.desk.common import mention
from bot.services.sweep_messages import StaffTexts
from storage.sweep_repository import ClaimedTicket, EventDraft, SlaTargetName
from storage.unit_of_work import UnitOfWork


async def agent_names(uow: UnitOfWork, claimed: Sequence[ClaimedTicket]) -> dict[int, str]:
    """The display names of the tickets' assignees, by Telegram id (those that have one)."""
    ids = sorted({t.assignee_id for t in claimed if t.assignee_id is not None})
    agents = await uow.agents.by_ids(ids=ids)
    return {agent.telegram_id: agent.display_name for agent in agents if agent.display_name}


def assignee_mention(
    staff: StaffTexts, ticket: ClaimedTicket, names: dict[int, str]
) -> Markup | str:
    """The ticket's assignee as a mention, or the desk's word for nobody."""
    if ticket.assignee_id is None:
        return staff.plain("sla.nobody")
    name = names.get(ticket.assignee_id) or staff.plain("sla.assignee_label")
    return mention(ticket.assignee_id, name)


def sla_event(kind: str, ticket: ClaimedTicket, target: SlaTargetName) -> EventDraft:
    """The ticket event of a warning or a breach of `target`."""
    return EventDraft(
        ticket_id=ticket.id,
        kind=kind,
        data={
            "target": target,
            "priority": ticket.priority,
            "due": ticket.due.isoformat() if ticket.due else None,
        },
    )
