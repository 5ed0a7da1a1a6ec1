"""What every incident use case shares: settings, errors, results, texts and linking."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.clock import Clock
from bot.domain.incidents import (
    CLUSTER_THRESHOLD,
    LINK_THRESHOLD,
    SUGGEST_THRESHOLD,
    IncidentStatus,
    SpikePolicy,
    SpikeVerdict,
)
from bot.domain.tickets import OPEN_STATUSES
from bot.locales.catalog import Catalogs
from bot.services.desk import DeskError
from bot.services.outbox import Buttons, Notify, enqueue_card_refresh
from storage.detection_store import NewTicket
from storage.incident_models import Incident
from storage.incident_repository import IncidentRepository
from storage.models import Ticket
from storage.unit_of_work import Database, UnitOfWork

SAMPLE_TICKETS = 3
ABOUT_LENGTH = 80
OPEN_TICKET_STATUSES = frozenset(status.value for status in OPEN_STATUSES)


class IncidentError(DeskError):
    """An incident action that cannot be done; `key` is the catalogue text explaining why."""


class AlertButtons(Protocol):
    """The adapter packs the buttons of an alert (Declare / Not an incident / Show tickets)."""

    def alert(self, alert_id: int, locale: str) -> Buttons: ...


@dataclass(frozen=True, slots=True)
class IncidentConfig:
    staff_chat_id: int | None
    staff_locale: str = "ru"
    supervisor_ids: tuple[int, ...] = ()
    policy: SpikePolicy = field(default_factory=SpikePolicy)
    cluster_threshold: float = CLUSTER_THRESHOLD
    link_threshold: float = LINK_THRESHOLD
    suggest_threshold: float = SUGGEST_THRESHOLD


@dataclass(frozen=True, slots=True)
class Detection:
    """What detection did with a new ticket."""

    cluster_id: int
    cluster_size: int
    linked_to: int | None = None  # incident id
    suggested: int | None = None  # incident id
    alert_id: int | None = None  # a new alert raised by this ticket
    verdict: SpikeVerdict | None = None


@dataclass(frozen=True, slots=True)
class LinkedView:
    number: str
    status: str
    ticket_id: int


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident and its linked tickets, for its card and the lists."""

    incident: Incident
    tickets: Sequence[LinkedView]


@dataclass(frozen=True, slots=True)
class Resolution:
    incident: Incident
    resolved: int  # linked tickets resolved now
    left_alone: int  # linked tickets that were no longer open


@dataclass(frozen=True, slots=True)
class IncidentFigures:
    """Incident statistics of a period (by the time incidents were declared)."""

    incidents: int
    linked_tickets: int
    time_to_detect: timedelta | None  # median: cluster's first ticket to its alert
    time_to_resolve: timedelta | None  # median: detection (or declaration) to resolution


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def no_wakeup() -> None:
    """The default `notify`: nothing to wake (tests, benchmarks)."""


@dataclass(frozen=True, slots=True)
class IncidentContext:
    """What every incident use case reads: the database, the clock, the texts and settings."""

    database: Database
    clock: Clock
    catalogs: Catalogs
    config: IncidentConfig
    category_titles: Mapping[str, str] = field(default_factory=dict)
    notify: Notify = no_wakeup

    def staff(self, key: str, /, **params: object) -> str:
        return self.catalogs.render(key, self.config.staff_locale, **params)

    def count(self, key: str, count: int) -> str:
        return self.catalogs.count(key, self.config.staff_locale, count)

    def staff_plain(self, key: str, /, **params: object) -> str:
        return self.catalogs.plain(key, self.config.staff_locale, **params)

    def category_title(self, category: str) -> str:
        return self.category_titles.get(category, category)

    def alert_chats(self) -> list[int]:
        chats = [self.config.staff_chat_id] if self.config.staff_chat_id is not None else []
        return chats + [s for s in self.config.supervisor_ids if s not in chats]


async def open_incident(repo: IncidentRepository, incident_id: int) -> Incident:
    """The incident, locked, if it is still open."""
    incident = await repo.get(incident_id=incident_id, lock=True)
    if incident is None:
        raise IncidentError("incidents.error.no_incident")
    if incident.status not in IncidentStatus.OPEN:
        raise IncidentError("incidents.error.resolved", number=incident.number)
    return incident


async def link_ticket(
    uow: UnitOfWork,
    repo: IncidentRepository,
    incident_id: int,
    ticket: Ticket | NewTicket,
    *,
    how: str,
    by: int | None,
    now: datetime,
) -> None:
    """Link the ticket (by hand or from an alert; detection links in its own write) and
    clear the suggestion on its card."""
    assert ticket.id is not None
    await repo.link(ticket_id=ticket.id, incident_id=incident_id, how=how, by=by, at=now)
    observation = await repo.observation(ticket_id=ticket.id)
    if observation is not None and observation.suggested_incident_id is not None:
        observation.suggested_incident_id = None
        uow.session.add(observation)
    await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
