"""Queries of mass incidents (used inside a unit of work: `IncidentRepository(uow.session)`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Table, bindparam, func, union_all, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.detection_sql import (
    ADD_LINK,
    OPEN_INCIDENT_STATUSES,
    core_rows,
    link_params,
)
from storage.incident_models import (
    Incident,
    IncidentAlert,
    IncidentObservation,
    IncidentTicket,
    IncidentUpdate,
)
from storage.models import Customer, Ticket
from storage.repositories import dialect_of

LinkedTicket = tuple[IncidentTicket, Ticket, Customer]


# Detection's statements of every new ticket are in `storage.detection_sql`; these Core
# statements are built once (no ORM objects, the compiled form is cached by SQLAlchemy).
_OBSERVATIONS: Table = IncidentObservation.__table__  # type: ignore[attr-defined]


@lru_cache(maxsize=8)
def _times_between(spans: int) -> CompoundSelect:
    """The times of the category's observations in each of `spans` spans (`start0`/`end0`...)."""
    created = _OBSERVATIONS.c.created_at
    return union_all(
        *(
            core_select(created).where(
                _OBSERVATIONS.c.category == bindparam("category"),
                created >= bindparam(f"start{i}"),
                created < bindparam(f"end{i}"),
            )
            for i in range(spans)
        )
    )


_LINKED = aliased(Incident)
_SUGGESTED = aliased(Incident)
# A ticket's incident (it is linked to) and the one detection suggested for it, in one
# statement: every refresh of a ticket's card shows them.
_OF_TICKET = (
    select(_LINKED, _SUGGESTED)
    .select_from(Ticket)
    .outerjoin(IncidentTicket, col(IncidentTicket.ticket_id) == Ticket.id)
    .outerjoin(_LINKED, col(_LINKED.id) == IncidentTicket.incident_id)
    .outerjoin(IncidentObservation, col(IncidentObservation.ticket_id) == Ticket.id)
    .outerjoin(_SUGGESTED, col(_SUGGESTED.id) == IncidentObservation.suggested_incident_id)
    .where(col(Ticket.id) == bindparam("ticket_id"))
)


class IncidentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ observations

    async def _core(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        return await core_rows(self.session, statement, params)

    async def times_between(
        self, *, category: str, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[datetime]:
        """The times of the category's observations in the spans, in order: one index range
        a span, in one statement."""
        if not spans:
            return []
        params: dict[str, Any] = {"category": category}
        for i, (start, end) in enumerate(spans):
            params[f"start{i}"], params[f"end{i}"] = start, end
        return sorted(row[0] for row in await self._core(_times_between(len(spans)), params))

    async def observation(self, *, ticket_id: int) -> IncidentObservation | None:
        return await self.session.get(IncidentObservation, ticket_id)

    async def cluster_ticket_ids(self, *, cluster_id: int) -> list[int]:
        result = await self.session.exec(
            select(IncidentObservation.ticket_id)
            .where(IncidentObservation.cluster_id == cluster_id)
            .order_by(col(IncidentObservation.created_at))
        )
        return list(result.all())

    async def cluster_last_at(self, *, cluster_id: int) -> datetime | None:
        result = await self.session.exec(
            select(func.max(IncidentObservation.created_at)).where(
                IncidentObservation.cluster_id == cluster_id
            )
        )
        return result.one()

    # ------------------------------------------------------------------------ alerts

    async def add_alert(self, alert: IncidentAlert) -> bool:
        """Store a new alert; False when its cluster has one already (a concurrent insert)."""
        try:
            async with self.session.begin_nested():
                self.session.add(alert)
        except IntegrityError:
            return False
        return True

    async def alert(self, *, alert_id: int, lock: bool = False) -> IncidentAlert | None:
        statement = select(IncidentAlert).where(IncidentAlert.id == alert_id)
        if lock and dialect_of(self.session) == "postgresql":
            statement = statement.with_for_update()
        result = await self.session.exec(statement)
        return result.first()

    async def open_alerts(self, *, last_before: datetime) -> Sequence[IncidentAlert]:
        result = await self.session.exec(
            select(IncidentAlert).where(
                IncidentAlert.status == "open", col(IncidentAlert.last_ticket_at) < last_before
            )
        )
        return result.all()

    async def claim_alert(self, *, alert_id: int, status: str, now: datetime) -> bool:
        """Move an open alert to `status`; False when someone else already did."""
        result = await self.session.exec(
            update(IncidentAlert)
            .where(col(IncidentAlert.id) == alert_id, col(IncidentAlert.status) == "open")
            .values(status=status, closed_at=now)
        )
        return bool(result.rowcount)

    # --------------------------------------------------------------------- incidents

    async def get(self, *, incident_id: int, lock: bool = False) -> Incident | None:
        statement = select(Incident).where(Incident.id == incident_id)
        if lock and dialect_of(self.session) == "postgresql":
            statement = statement.with_for_update()
        result = await self.session.exec(statement)
        return result.first()

    async def by_number(self, *, number: str) -> Incident | None:
        result = await self.session.exec(select(Incident).where(Incident.number == number))
        return result.first()

    async def by_topic(self, *, topic_id: int) -> Incident | None:
        result = await self.session.exec(select(Incident).where(Incident.topic_id == topic_id))
        return result.first()

    async def open_incidents(self) -> Sequence[Incident]:
        result = await self.session.exec(
            select(Incident)
            .where(col(Incident.status).in_(OPEN_INCIDENT_STATUSES))
            .order_by(col(Incident.id))
        )
        return result.all()

    async def add(self, incident: Incident) -> Incident:
        self.session.add(incident)
        await self.session.flush()
        return incident

    async def save(self, incident: Incident) -> None:
        self.session.add(incident)
        await self.session.flush()

    async def between(self, *, since: datetime, until: datetime) -> Sequence[Incident]:
        result = await self.session.exec(
            select(Incident).where(
                col(Incident.declared_at) >= since, col(Incident.declared_at) < until
            )
        )
        return result.all()

    # ------------------------------------------------------------------------- links

    async def of_ticket(self, *, ticket_id: int) -> tuple[Incident | None, Incident | None]:
        """The incident the ticket is linked to and the one suggested for it (see
        `_OF_TICKET`); Nones for a ticket with neither, or none at all."""
        row = (await self.session.exec(_OF_TICKET, params={"ticket_id": ticket_id})).first()
        return (None, None) if row is None else (row[0], row[1])

    async def link_of(self, *, ticket_id: int) -> IncidentTicket | None:
        return await self.session.get(IncidentTicket, ticket_id)

    async def link(
        self, *, ticket_id: int, incident_id: int, how: str, by: int | None, at: datetime
    ) -> None:
        """Link a ticket to an incident (detection's own links: `DetectionStore.store`)."""
        params = link_params(ticket_id=ticket_id, incident_id=incident_id, how=how, by=by, at=at)
        await self._core(ADD_LINK, params)

    async def unlink(self, link: IncidentTicket) -> None:
        await self.session.delete(link)
        await self.session.flush()

    async def linked(self, *, incident_id: int) -> Sequence[LinkedTicket]:
        result = await self.session.exec(
            select(IncidentTicket, Ticket, Customer)
            .join(Ticket, col(Ticket.id) == col(IncidentTicket.ticket_id))
            .join(Customer, col(Customer.id) == col(Ticket.customer_id))
            .where(IncidentTicket.incident_id == incident_id)
            .order_by(col(IncidentTicket.ticket_id))
        )
        return [tuple(row) for row in result.all()]  # type: ignore[misc]

    async def recipients(self, *, incident_id: int) -> list[tuple[int, int, str, int, str]]:
        """(customer id, Telegram id, locale, ticket id, ticket number) of every linked
        ticket, in ticket order: columns only, for fan-outs to thousands."""
        result = await self.session.exec(
            select(  # type: ignore[call-overload]
                Customer.id, Customer.telegram_id, Customer.locale, Ticket.id, Ticket.number
            )
            .join(Ticket, col(Ticket.customer_id) == col(Customer.id))
            .join(IncidentTicket, col(IncidentTicket.ticket_id) == col(Ticket.id))
            .where(IncidentTicket.incident_id == incident_id)
            .order_by(col(Ticket.id))
        )
        return [tuple(row) for row in result.all()]

    async def count_linked(self, *, incident_ids: Sequence[int]) -> int:
        if not incident_ids:
            return 0
        result = await self.session.exec(
            select(func.count())
            .select_from(IncidentTicket)
            .where(col(IncidentTicket.incident_id).in_(list(incident_ids)))
        )
        return int(result.one())

    async def unsettled(self, *, incident_id: int) -> list[int]:
        result = await self.session.exec(
            select(IncidentTicket.ticket_id)
            .where(
                IncidentTicket.incident_id == incident_id,
                col(IncidentTicket.settled_at).is_(None),
            )
            .order_by(col(IncidentTicket.ticket_id))
        )
        return list(result.all())

    async def settle(self, *, ticket_id: int, now: datetime) -> None:
        await self.session.exec(
            update(IncidentTicket)
            .where(col(IncidentTicket.ticket_id) == ticket_id)
            .values(settled_at=now)
        )

    async def resolved_with_unsettled(self) -> list[int]:
        result = await self.session.exec(
            select(Incident.id)
            .join(IncidentTicket, col(IncidentTicket.incident_id) == col(Incident.id))
            .where(Incident.status == "resolved", col(IncidentTicket.settled_at).is_(None))
            .distinct()
        )
        return [int(i) for i in result.all() if i is not None]

    async def add_update(self, row: IncidentUpdate) -> IncidentUpdate:
        self.session.add(row)
        await self.session.flush()
        return row
