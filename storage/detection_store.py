"""The statements incident detection runs for every new ticket: one read, one write.

What: `DetectionStore.read` gives what detection needs of a new ticket (the ticket and its
customer, whether it was observed already, the rows of its category's window since what the
caller keeps in memory, the open incidents of its category with their latest linked tickets'
signatures); `DetectionStore.store` writes the ticket's observation and its automatic link to
an incident, and grows its cluster's alert. On PostgreSQL each is one statement (the read
with lateral subqueries and arrays, the write a data-modifying CTE); on SQLite they are the
plain statements one after the other.

Why: on PostgreSQL every statement is a round trip to the server, and detection runs for
every new ticket with a target of 5 ms at the p99 (docs/benchmarks.md, "Mass incidents"):
five to nine statements a ticket before, two now (the messages of a link or a suggestion
add theirs). SQLite runs in the process, where a statement costs no round trip and the plain
ones are the easier to read.

Both forms return the same (`tests/incidents/test_detection_store.py` runs the same
detections on both databases and checks what was read and written).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from storage.repositories import dialect_of
from storage.types import UTCDateTime

OPEN_INCIDENT_STATUSES = ("investigating", "identified", "monitoring")
# How many of an open incident's latest linked tickets a new complaint is compared with.
LINKED_SIGNATURES = 50
WindowRow = tuple[int, datetime, str, int]  # ticket id, time, signature, cluster


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What detection needs of a new ticket (read as columns, not as an ORM object)."""

    id: int
    number: str
    customer_id: int
    kind: str
    category: str
    description: str | None
    created_at: datetime
    observed: bool  # detection has seen it already (a repeated event)
    telegram_id: int | None  # its customer's chat (None: no such customer)
    locale: str | None


@dataclass(frozen=True, slots=True)
class OpenIncident:
    id: int
    category: str | None
    signature: str
    public_text: str
    linked: tuple[str, ...] = ()  # the signatures of its latest linked tickets, latest first


@dataclass(frozen=True, slots=True)
class DetectionInput:
    """A new ticket and, when it is a complaint not observed yet, its category's window rows
    since `since` and the open incidents of its category (or of none)."""

    ticket: NewTicket
    window: Sequence[WindowRow] = ()
    incidents: Sequence[OpenIncident] = ()

    @property
    def fresh_complaint(self) -> bool:
        return self.ticket.kind == "complaint" and not self.ticket.observed


def window_start(read_from: Mapping[str, datetime], category: str, since: datetime) -> datetime:
    """Where the window's rows are read from: `since`, or later when the caller keeps the
    category's rows read up to `read_from[category]` (the PostgreSQL read does the same)."""
    kept = read_from.get(category)
    return since if kept is None else max(since, kept)


_OBSERVATIONS: Table = IncidentObservation.__table__  # type: ignore[attr-defined]
_ALERTS: Table = IncidentAlert.__table__  # type: ignore[attr-defined]
_INCIDENTS: Table = Incident.__table__  # type: ignore[attr-defined]
_TICKETS: Table = Ticket.__table__  # type: ignore[attr-defined]
_CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
_LINKS: Table = IncidentTicket.__table__  # type: ignore[attr-defined]

# ---------------------------------------------------------------- the plain statements
_NEW_TICKET = (
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
_OPEN_INCIDENTS = (
    core_select(
        _INCIDENTS.c.id, _INCIDENTS.c.category, _INCIDENTS.c.signature, _INCIDENTS.c.public_text
    )
    .where(_INCIDENTS.c.status.in_(OPEN_INCIDENT_STATUSES))
    .order_by(_INCIDENTS.c.id)
)
_LINKED_SIGNATURES = (
    core_select(_OBSERVATIONS.c.signature)
    .select_from(_LINKS.join(_OBSERVATIONS, _OBSERVATIONS.c.ticket_id == _LINKS.c.ticket_id))
    .where(_LINKS.c.incident_id == bindparam("incident"))
    .order_by(_LINKS.c.ticket_id.desc())
    .limit(bindparam("limit"))
)
# Another ticket of a cluster: its alert's size and last time only ever grow; returns the
# alert's id (no row: the cluster has no alert).
_ALERT_SEEN = (
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
_ADD_OBSERVATION = insert(_OBSERVATIONS).values(
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
# The open incidents of the ticket's category (or of none), as `_OPEN_INCIDENTS` filtered.
_PG_OPEN = f"""i.status IN ({", ".join(f"'{status}'" for status in OPEN_INCIDENT_STATUSES)})
      AND (i.category IS NULL OR i.category = t.category)"""
_PG_READ = (
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
_SEEN = _ALERT_SEEN.cte("seen")
_PG_STORE = core_select(_SEEN.c.id).add_cte(_ADD_OBSERVATION.cte("observed"))
_PG_STORE_LINKED = _PG_STORE.add_cte(ADD_LINK.cte("linked"))


async def core_rows(session: AsyncSession, statement: Any, params: dict[str, Any]) -> list[Any]:
    """A Core statement on the session's connection (its transaction), past the ORM's
    execution layers; its rows (none for a write without RETURNING)."""

    def run(sync_session: Session) -> list[Any]:
        result = sync_session.connection().execute(statement, params)
        return list(result.all()) if result.returns_rows else []

    return await session.run_sync(run)


class DetectionStore:
    """Detection's reads and writes of one new ticket, inside a unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._postgres = dialect_of(session) == "postgresql"

    async def _core(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        return await core_rows(self.session, statement, params)

    async def read(
        self, *, ticket_id: int, window: timedelta, read_from: Mapping[str, datetime]
    ) -> DetectionInput | None:
        """The ticket (None: no such ticket) and, for a complaint not observed yet, its
        category's window rows since `window_start(read_from, category, created - window)`
        and its category's open incidents."""
        if self._postgres:
            return await self._read_at_once(ticket_id, window, read_from)
        rows = await self._core(_NEW_TICKET, {"ticket_id": ticket_id})
        if not rows:
            return None
        ticket = NewTicket(*rows[0])
        found = DetectionInput(ticket)
        if not found.fresh_complaint:
            return found
        since = window_start(read_from, ticket.category, ticket.created_at - window)
        window_rows = await self._core(WINDOW, {"category": ticket.category, "since": since})
        incidents = []
        for incident_id, category, text_signature, public_text in await self._core(
            _OPEN_INCIDENTS, {}
        ):
            if category is not None and category != ticket.category:
                continue
            linked = await self._core(
                _LINKED_SIGNATURES, {"incident": incident_id, "limit": LINKED_SIGNATURES}
            )
            incidents.append(
                OpenIncident(
                    incident_id, category, text_signature, public_text, tuple(r[0] for r in linked)
                )
            )
        return DetectionInput(ticket, [tuple(r) for r in window_rows], incidents)

    async def _read_at_once(
        self, ticket_id: int, window: timedelta, read_from: Mapping[str, datetime]
    ) -> DetectionInput | None:
        rows = await self._core(
            _PG_READ,
            {
                "ticket_id": ticket_id,
                "window": window,
                "categories": list(read_from),
                "read_from": list(read_from.values()),
                "linked": LINKED_SIGNATURES,
            },
        )
        if not rows:
            return None
        row = rows[0]
        ticket = NewTicket(*row[:10])
        linked: dict[int, list[str]] = {}
        for incident_id, signature in zip(
            row.linked_incident_ids or (), row.linked_signatures or (), strict=True
        ):
            linked.setdefault(incident_id, []).append(signature)
        return DetectionInput(
            ticket,
            list(
                zip(
                    row.window_ids or (),
                    row.window_ats or (),
                    row.window_signatures or (),
                    row.window_clusters or (),
                    strict=True,
                )
            ),
            [
                OpenIncident(*fields, linked=tuple(linked.get(fields[0], ())))
                for fields in zip(
                    row.incident_ids or (),
                    row.incident_categories or (),
                    row.incident_signatures or (),
                    row.incident_public_texts or (),
                    strict=True,
                )
            ],
        )

    async def store(
        self,
        *,
        ticket_id: int,
        category: str,
        at: datetime,
        signature: str,
        cluster_id: int,
        size: int,
        suggested_incident_id: int | None,
        link_to: int | None = None,
    ) -> int | None:
        """Store the ticket's observation, link it to the incident `link_to` (detection's
        automatic link) and, when it joined another ticket's cluster, grow that cluster's
        alert's size and last time (they only ever grow); the alert's id (None: the cluster
        has no alert)."""
        observation = {
            "new_ticket_id": ticket_id,
            "new_category": category,
            "new_created_at": at,
            "new_signature": signature,
            "new_cluster_id": cluster_id,
            "new_suggested_incident_id": suggested_incident_id,
        }
        seen = {"cluster": cluster_id, "size": size, "seen_at": at}
        link = (
            link_params(ticket_id=ticket_id, incident_id=link_to, how="auto", by=None, at=at)
            if link_to is not None
            else None
        )
        if self._postgres:
            # A cluster of the ticket's own has no alert: the update finds no row.
            statement = _PG_STORE if link is None else _PG_STORE_LINKED
            rows = await self._core(statement, observation | seen | (link or {}))
            return int(rows[0][0]) if rows else None
        alert_id = None
        if cluster_id != ticket_id:  # a cluster of its own cannot have an alert yet
            rows = await self._core(_ALERT_SEEN, seen)
            alert_id = int(rows[0][0]) if rows else None
        await self._core(_ADD_OBSERVATION, observation)
        if link is not None:
            await self._core(ADD_LINK, link)
        return alert_id
