"""The SQL of incident detection's read and write (`storage.detection_store`): the plain
statements (SQLite) and the one-statement forms of PostgreSQL, built once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Interval,
    Table,
    Text,
    bindparam,
    case,
    insert,
    text,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.incident_models import Incident, IncidentAlert, IncidentObservation, IncidentTicket
from storage.models import Customer, Ticket
from storage.types import UTCDateTime

OPEN_INCIDENT_STATUSES = ("investigating", "identified", "monitoring")

_OBSERVATIONS: Table = IncidentObservation.__table__  # type: ignore[attr-defined]
_ALERTS: Table = IncidentAlert.__table__  # type: ignore[attr-defined]
_INCIDENTS: Table = Incident.__table__  # type: ignore[attr-defined]
_TICKETS: Table = Ticket.__table__  # type: ignore[attr-defined]
_CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
_LINKS: Table = IncidentTicket.__table__  # type: ignore[attr-defined]

# ---------------------------------------------------------------- the plain statements
NEW_TICKET = (
    core_select(
        _TICKETS.c.id,
        _TICKETS.c.number,
        _TICKETS.c.customer_id,
        _TICKETS.c.kind,
        _TICKETS.c.category,
        _TICKETS.c.description,
        _TICKETS.c.created_at,
        _OBSERVATIONS.c.ticket_id.is_not(None).label("observed"),
        _CUSTOMERS.c.telegram_id,
        _CUSTOMERS.c.locale,
    )
    .select_from(
        _TICKETS.outerjoin(_OBSERVATIONS, _OBSERVATIONS.c.ticket_id == _TICKETS.c.id).outerjoin(
            _CUSTOMERS, _CUSTOMERS.c.id == _TICKETS.c.customer_id
        )
    )
    .where(_TICKETS.c.id == bindparam("ticket_id"))
)
WINDOW = core_select(
    _OBSERVATIONS.c.ticket_id,
    _OBSERVATIONS.c.created_at,
    _OBSERVATIONS.c.signature,
    _OBSERVATIONS.c.cluster_id,
).where(
    _OBSERVATIONS.c.category == bindparam("category"),
    _OBSERVATIONS.c.created_at >= bindparam("since"),
)
OPEN_INCIDENTS = (
    core_select(
        _INCIDENTS.c.id, _INCIDENTS.c.category, _INCIDENTS.c.signature, _INCIDENTS.c.public_text
    )
    .where(_INCIDENTS.c.status.in_(OPEN_INCIDENT_STATUSES))
    .order_by(_INCIDENTS.c.id)
)
LATEST_LINKED = (
    core_select(_OBSERVATIONS.c.signature)
    .select_from(_LINKS.join(_OBSERVATIONS, _OBSERVATIONS.c.ticket_id == _LINKS.c.ticket_id))
    .where(_LINKS.c.incident_id == bindparam("incident"))
    .order_by(_LINKS.c.ticket_id.desc())
    .limit(bindparam("limit"))
)
# Another ticket of a cluster: its alert's size and last time only ever grow; returns the
# alert's id (no row: the cluster has no alert).
ALERT_SEEN = (
    update(_ALERTS)
    .where(_ALERTS.c.cluster_id == bindparam("cluster"))
    .values(
        last_ticket_at=case(
            (_ALERTS.c.last_ticket_at < bindparam("seen_at"), bindparam("seen_at")),
            else_=_ALERTS.c.last_ticket_at,
        ),
        count=case((_ALERTS.c.count < bindparam("size"), bindparam("size")), else_=_ALERTS.c.count),
    )
    .returning(_ALERTS.c.id)
)
# (bound as `new_<column>`: a parameter named as a column would also be set by the alert's
# update when both run in one statement)
ADD_OBSERVATION = insert(_OBSERVATIONS).values(
    {
        name: bindparam(f"new_{name}")
        for name in (
            "ticket_id",
            "category",
            "created_at",
            "signature",
            "cluster_id",
            "suggested_incident_id",
        )
    }
)

# A ticket linked to an incident (every link, by hand or by detection, is this statement).
ADD_LINK = insert(_LINKS).values(
    {
        name: bindparam(f"link_{name}")
        for name in ("ticket_id", "incident_id", "how", "linked_by", "linked_at")
    }
)


def link_params(
    *, ticket_id: int, incident_id: int, how: str, by: int | None, at: datetime
) -> dict[str, Any]:
    """The parameters of `ADD_LINK`."""
    return {
        "link_ticket_id": ticket_id,
        "link_incident_id": incident_id,
        "link_how": how,
        "link_linked_by": by,
        "link_linked_at": at,
    }


# ------------------------------------------------------- PostgreSQL: one statement each
# The open incidents of the ticket's category (or of none), as `OPEN_INCIDENTS` filtered.
_PG_OPEN = f"""i.status IN ({", ".join(f"'{status}'" for status in OPEN_INCIDENT_STATUSES)})
      AND (i.category IS NULL OR i.category = t.category)"""
PG_READ = (
    text(
        f"""
SELECT t.id, t.number, t.customer_id, t.kind, t.category, t.description, t.created_at,
       o.ticket_id IS NOT NULL AS observed, c.telegram_id, c.locale,
       recent.ids AS window_ids, recent.ats AS window_ats,
       recent.signatures AS window_signatures, recent.clusters AS window_clusters,
       opened.ids AS incident_ids, opened.categories AS incident_categories,
       opened.signatures AS incident_signatures, opened.public_texts AS incident_public_texts,
       linked.incident_ids AS linked_incident_ids, linked.signatures AS linked_signatures
FROM tickets AS t
LEFT JOIN incident_observations AS o ON o.ticket_id = t.id
LEFT JOIN customers AS c ON c.id = t.customer_id
CROSS JOIN LATERAL (
    SELECT array_agg(w.ticket_id) AS ids, array_agg(w.created_at) AS ats,
           array_agg(w.signature) AS signatures, array_agg(w.cluster_id) AS clusters
    FROM incident_observations AS w
    WHERE t.kind = 'complaint' AND o.ticket_id IS NULL
      AND w.category = t.category
      AND w.created_at >= GREATEST(
          t.created_at - CAST(:window AS interval),
          (SELECT kept.at
           FROM unnest(CAST(:categories AS text[]), CAST(:read_from AS timestamptz[]))
                AS kept(category, at)
           WHERE kept.category = t.category))
) AS recent
CROSS JOIN LATERAL (
    SELECT array_agg(i.id ORDER BY i.id) AS ids,
           array_agg(i.category ORDER BY i.id) AS categories,
           array_agg(i.signature ORDER BY i.id) AS signatures,
           array_agg(i.public_text ORDER BY i.id) AS public_texts
    FROM incidents AS i
    WHERE t.kind = 'complaint' AND o.ticket_id IS NULL AND {_PG_OPEN}
) AS opened
CROSS JOIN LATERAL (
    SELECT array_agg(latest.incident_id ORDER BY latest.incident_id, latest.ticket_id DESC)
               AS incident_ids,
           array_agg(latest.signature ORDER BY latest.incident_id, latest.ticket_id DESC)
               AS signatures
    FROM incidents AS i
    CROSS JOIN LATERAL (
        SELECT link.incident_id, link.ticket_id, seen.signature
        FROM incident_tickets AS link
        JOIN incident_observations AS seen ON seen.ticket_id = link.ticket_id
        WHERE link.incident_id = i.id
        ORDER BY link.ticket_id DESC
        LIMIT :linked
    ) AS latest
    WHERE t.kind = 'complaint' AND o.ticket_id IS NULL AND {_PG_OPEN}
) AS linked
WHERE t.id = :ticket_id
"""
    )
    .bindparams(
        bindparam("window", type_=Interval()),
        bindparam("categories", type_=ARRAY(Text())),
        bindparam("read_from", type_=ARRAY(UTCDateTime())),
    )
    .columns(
        created_at=UTCDateTime(),
        observed=Boolean(),
        window_ids=ARRAY(BigInteger()),
        window_ats=ARRAY(UTCDateTime()),
        window_signatures=ARRAY(Text()),
        window_clusters=ARRAY(BigInteger()),
        incident_ids=ARRAY(BigInteger()),
        incident_categories=ARRAY(Text()),
        incident_signatures=ARRAY(Text()),
        incident_public_texts=ARRAY(Text()),
        linked_incident_ids=ARRAY(BigInteger()),
        linked_signatures=ARRAY(Text()),
    )
)
_SEEN = ALERT_SEEN.cte("seen")
PG_STORE = core_select(_SEEN.c.id).add_cte(ADD_OBSERVATION.cte("observed"))
PG_STORE_LINKED = PG_STORE.add_cte(ADD_LINK.cte("linked"))


async def core_rows(session: AsyncSession, statement: Any, params: dict[str, Any]) -> list[Any]:
    """A Core statement on the session's connection (its transaction), past the ORM's
    execution layers; its rows (none for a write without RETURNING)."""

    def run(sync_session: Session) -> list[Any]:
        result = sync_session.connection().execute(statement, params)
        return list(result.all()) if result.returns_rows else []

    return await session.run_sync(run)
