"""The tickets whose card refresh is queued in a session's current transaction.

A card refresh reads the ticket when it is delivered, after the commit, so one refresh shows
every change a transaction made to the ticket: `enqueue_card_refresh` queues one per ticket
and transaction (a first reply moves the ticket and assigns it, each of which asks for one).
What is remembered ends with the transaction (`UnitOfWork.commit` and `rollback`), and with
the queued rows when they are deleted (the personal-data scrub).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

_KEY = "card_refreshes_queued"


def queued_refreshes(session: AsyncSession) -> set[int]:
    """The tickets with a refresh queued in `session`'s transaction (add to it when queueing)."""
    queued: set[int] = session.info.setdefault(_KEY, set())
    return queued


def forget_refreshes(session: AsyncSession, ticket_ids: Iterable[int] | None = None) -> None:
    """Forget the queued refreshes of `ticket_ids` (None: of every ticket)."""
    queued = queued_refreshes(session)
    if ticket_ids is None:
        queued.clear()
    else:
        queued.difference_update(ticket_ids)
