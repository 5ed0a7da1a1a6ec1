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

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.detection_sql import (
    ADD_LINK,
    ADD_OBSERVATION,
    ALERT_SEEN,
    LATEST_LINKED,
    NEW_TICKET,
    OPEN_INCIDENTS,
    PG_READ,
    PG_STORE,
    PG_STORE_LINKED,
    WINDOW,
    core_rows,
    link_params,
)
from storage.repositories import dialect_of

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
        rows = await self._core(NEW_TICKET, {"ticket_id": ticket_id})
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
            OPEN_INCIDENTS, {}
        ):
            if category is not None and category != ticket.category:
                continue
            linked = await self._core(
                LATEST_LINKED, {"incident": incident_id, "limit": LINKED_SIGNATURES}
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
            PG_READ,
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
            statement = PG_STORE if link is None else PG_STORE_LINKED
            rows = await self._core(statement, observation | seen | (link or {}))
            return int(rows[0][0]) if rows else None
        alert_id = None
        if cluster_id != ticket_id:  # a cluster of its own cannot have an alert yet
            rows = await self._core(ALERT_SEEN, seen)
            alert_id = int(rows[0][0]) if rows else None
        await self._core(ADD_OBSERVATION, observation)
        if link is not None:
            await self._core(ADD_LINK, link)
        return alert_id
