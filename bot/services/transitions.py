"""Applying a status change to a stored ticket: the one path every use case goes through."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from bot.domain.service_time import service_time_between
from bot.domain.sla import SlaPolicy, compute_due
from bot.domain.tickets import Actor, EventKind, Priority, StatusChange, TicketStatus, transition
from bot.ops.context import bind_ticket
from bot.services.outbox import enqueue_card_refresh
from storage.models import Ticket
from storage.unit_of_work import UnitOfWork


async def apply_transition(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    target: TicketStatus,
    actor: Actor,
    now: datetime,
    sla: SlaPolicy,
    comment: str | None = None,
    save: bool = True,
) -> StatusChange:
    """Check the move with the state machine, store its event and keep the SLA facts right.

    Time spent in `waiting_customer` is added to `paused_seconds` (service time, so the
    resolution target is pushed back by exactly the pause), and due times are recomputed.
    The ticket's card and topic name are refreshed by the delivery worker after the commit
    (an outbox row in this unit of work), whoever made the change.
    Raises `IllegalTransition` for a move the state machine does not allow. `save=False`
    leaves writing the ticket to the caller, who saves it next (an assignment that follows
    at once): both changes then go in one UPDATE.
    """
    bind_ticket(ticket.number)
    current = ticket.status
    change = transition(current, target, actor=actor, at=now, comment=comment)
    if current is TicketStatus.WAITING_CUSTOMER and ticket.waiting_since is not None:
        paused = service_time_between(ticket.waiting_since, now, calendar=sla.service_calendar)
        ticket.paused_seconds += int(paused.total_seconds())
        ticket.waiting_since = None
    if target is TicketStatus.WAITING_CUSTOMER:
        ticket.waiting_since = now
    if target is TicketStatus.RESOLVED:
        ticket.resolved_at = now
    if target is TicketStatus.CLOSED:
        ticket.closed_at = now
    if target is TicketStatus.REOPENED:
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.status = target
    ticket.updated_at = now
    refresh_due_times(ticket, sla=sla, now=now)
    assert ticket.id is not None
    # Every statement flushes what changed first (the session's autoflush): unless the
    # ticket is saved here, it waits for the caller's save.
    with contextlib.nullcontext() if save else uow.session.no_autoflush:
        await uow.events.add(
            ticket_id=ticket.id,
            at=now,
            actor_kind=actor.kind,
            actor_id=actor.user_id,
            from_status=current,
            to_status=target,
            comment=comment,
        )
        if save:
            await uow.tickets.save(ticket=ticket)
        await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
    return change


def refresh_due_times(ticket: Ticket, *, sla: SlaPolicy, now: datetime) -> None:
    """Recompute the stored due times from the ticket's facts (priority, pauses, response)."""
    due = compute_due(
        sla,
        priority=ticket.priority,
        opened_at=ticket.created_at,
        now=now,
        paused=timedelta(seconds=ticket.paused_seconds),
        first_response_at=ticket.first_response_at,
        paused_since=ticket.waiting_since,
    )
    ticket.first_response_due = due.first_response_due
    ticket.resolution_due = due.resolution_due


async def change_priority(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    priority: Priority,
    actor: Actor,
    now: datetime,
    sla: SlaPolicy,
    reason: str | None = None,
) -> Priority:
    """Set the priority, move the due times with it, store the event and refresh the card;
    returns the previous priority."""
    assert ticket.id is not None
    old, ticket.priority = ticket.priority, priority
    ticket.updated_at = now
    refresh_due_times(ticket, sla=sla, now=now)
    await uow.tickets.save(ticket=ticket)
    data: dict[str, str] = {"from": old, "to": priority}
    if reason is not None:
        data["reason"] = reason
    await uow.events.add(
        ticket_id=ticket.id,
        at=now,
        actor_kind=actor.kind,
        actor_id=actor.user_id,
        kind=EventKind.PRIORITY,
        data=data,
    )
    await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
    return old
