"""Mass incidents as use cases: detection on every new ticket, alerts, declaring, linking,
updates and resolution fanned out to the linked customers through the outbox.

Messages go through the outbox in the unit of work of their cause: alerts and all-clears
(`text`), the notice to a customer whose new complaint matches an open incident (`text`, sent
at once), updates (`incident_update`, one row per linked customer) and the resolution
(`incident_resolved`, one row per linked open ticket, through the desk's own resolve use case
so surveys follow as for any resolved ticket). The keys make a repeated action send nothing
twice, and rows already written survive a restart: a fan-out interrupted after its commit is
simply delivered later; a resolution interrupted between tickets is finished by the sweep.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.clock import Clock
from bot.domain.incidents import (
    CLUSTER_THRESHOLD,
    LINK_THRESHOLD,
    SUGGEST_THRESHOLD,
    IncidentStatus,
    Observation,
    Placement,
    SpikePolicy,
    SpikeVerdict,
    baseline_spans,
    best_match,
    format_incident_number,
    is_calm,
    judge,
    place,
)
from bot.domain.tickets import OPEN_STATUSES, IllegalTransition, ResolutionType
from bot.locales.catalog import Catalogs
from bot.services.desk import AgentRef, DeskError, DeskService
from bot.services.incidents.signatures import signature
from bot.services.outbox import (
    INCIDENT_RESOLVED,
    INCIDENT_UPDATE,
    Buttons,
    Notify,
    enqueue_card_refresh,
    enqueue_text,
    enqueue_texts,
)
from storage.incident_models import (
    Incident,
    IncidentAlert,
    IncidentObservation,
    IncidentTicket,
    IncidentUpdate,
)
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


# Rows committed by another instance are read again for this long after the last sync: a
# ticket is committed well within it of its `created_at`.
SYNC_OVERLAP = timedelta(minutes=1)


class WindowCache:
    """The recent window's observations per category, kept in memory and topped up from the
    database with only the rows since the last read (minus `SYNC_OVERLAP`), so detection
    does not read and parse the whole window for every ticket."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[int, Observation]] = {}
        self._synced: dict[str, datetime] = {}

    async def window(
        self, repo: IncidentRepository, category: str, *, since: datetime, now: datetime
    ) -> list[Observation]:
        rows = self._rows.setdefault(category, {})
        synced = self._synced.get(category)
        start = since if synced is None else max(since, synced - SYNC_OVERLAP)
        for tid, at, sig, cluster in await repo.window(category=category, since=start):
            rows[tid] = Observation(tid, category, at, sig, cluster)
        self._synced[category] = max(now, synced) if synced else now
        while rows:
            oldest = next(iter(rows))
            if rows[oldest].at >= since:
                break
            del rows[oldest]
        return [o for o in rows.values() if o.at >= since]


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class IncidentService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        catalogs: Catalogs,
        config: IncidentConfig,
        desk: DeskService,
        buttons: AlertButtons,
        *,
        category_titles: dict[str, str] | None = None,
        notify: Notify | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._catalogs = catalogs
        self.config = config
        self._desk = desk
        self._buttons = buttons
        self._category_titles = category_titles or {}
        self._notify = notify or (lambda: None)
        self._windows = WindowCache()

    def _staff(self, key: str, /, **params: object) -> str:
        return self._catalogs.render(key, self.config.staff_locale, **params)

    def _staff_plain(self, key: str, /, **params: object) -> str:
        return self._catalogs.plain(key, self.config.staff_locale, **params)

    # -------------------------------------------------------------------- detection

    async def observe(self, ticket_id: int) -> Detection | None:
        """Detection for one new ticket: cluster it, link it to a matching open incident (and
        tell its customer) or suggest one, and raise an alert for an improbable cluster."""
        policy = self.config.policy
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            ticket = await uow.tickets.get(ticket_id=ticket_id)
            if ticket is None or ticket.kind != "complaint":
                return None
            if await repo.observation(ticket_id=ticket_id) is not None:
                return None  # seen already (a repeated event)
            now = ticket.created_at
            text = signature(ticket.description or "")
            window = await self._windows.window(
                repo, ticket.category, since=now - policy.window, now=now
            )
            window = [o for o in window if o.ticket_id != ticket_id]
            placement = place(
                ticket_id=ticket_id,
                at=now,
                signature=text,
                window=window,
                threshold=self.config.cluster_threshold,
            )
            observation = IncidentObservation(
                ticket_id=ticket_id,
                category=ticket.category,
                created_at=now,
                signature=text,
                cluster_id=placement.cluster_id,
            )
            await repo.add_observation(observation)
            detection = Detection(placement.cluster_id, placement.size)
            alert = await repo.alert_for_cluster(cluster_id=placement.cluster_id)
            if alert is not None and alert.id is not None:
                await repo.alert_seen(alert_id=alert.id, count=placement.size, at=now)
            incident_id, score = await self._matching_incident(repo, ticket, text)
            if incident_id is not None and score >= self.config.link_threshold:
                await self._link(uow, repo, incident_id, ticket, how="auto", by=None, now=now)
                await self._tell_known(uow, repo, incident_id, ticket, now)
                detection = Detection(placement.cluster_id, placement.size, linked_to=incident_id)
            elif incident_id is not None and score >= self.config.suggest_threshold:
                observation.suggested_incident_id = incident_id
                uow.session.add(observation)
                await enqueue_card_refresh(uow, ticket_id=ticket_id, now=now)
                detection = Detection(placement.cluster_id, placement.size, suggested=incident_id)
            if detection.linked_to is None and alert is None:
                detection = await self._spike(uow, repo, ticket, placement, detection, now)
        self._notify()
        return detection

    async def _spike(
        self,
        uow: UnitOfWork,
        repo: IncidentRepository,
        ticket: Ticket,
        placement: Placement,
        detection: Detection,
        now: datetime,
    ) -> Detection:
        """The spike test for the ticket's cluster, and its alert when improbable."""
        policy = self.config.policy
        if placement.size >= policy.min_tickets:
            counts = await repo.counts_between(
                category=ticket.category, spans=baseline_spans(now, policy)
            )
            verdict = judge(placement.size, counts, policy)
            if verdict.alert:
                raised = await self._raise_alert(
                    uow, repo, ticket, placement.cluster_id, placement.first_at, verdict, now
                )
                return Detection(
                    placement.cluster_id,
                    placement.size,
                    suggested=detection.suggested,
                    alert_id=raised.id if raised else None,
                    verdict=verdict,
                )
        return detection

    async def _matching_incident(
        self, repo: IncidentRepository, ticket: Ticket, text: str
    ) -> tuple[int | None, float]:
        """The open incident the ticket matches best (its title and its latest linked
        tickets) and how well. Being in the cluster an incident was declared from is not
        enough: clusters chain through the looser cluster threshold."""
        best: tuple[int | None, float] = (None, 0.0)
        for incident in await repo.open_incidents():
            assert incident.id is not None
            if incident.category is not None and incident.category != ticket.category:
                continue
            candidates = [
                incident.signature,
                *await repo.linked_signatures(incident_id=incident.id),
            ]
            match = best_match(text, candidates, threshold=self.config.suggest_threshold)
            if match is not None and match[1] > best[1]:
                best = (incident.id, match[1])
        return best

    async def _raise_alert(
        self,
        uow: UnitOfWork,
        repo: IncidentRepository,
        ticket: Ticket,
        cluster_id: int,
        first_at: datetime,
        verdict: SpikeVerdict,
        now: datetime,
    ) -> IncidentAlert | None:
        members = await repo.cluster_ticket_ids(cluster_id=cluster_id)
        alert = IncidentAlert(
            cluster_id=cluster_id,
            category=ticket.category,
            first_ticket_at=first_at,
            last_ticket_at=now,
            alerted_at=now,
            count=verdict.count,
            usual_per_hour=verdict.usual_per_hour,
            p_value=verdict.p_value,
            sample_ticket_ids=members[-SAMPLE_TICKETS:],
        )
        if not await repo.add_alert(alert):
            return None  # a concurrent ticket of the same cluster raised it
        assert alert.id is not None
        seed = await uow.tickets.get(ticket_id=cluster_id)
        about = _short((seed or ticket).description or "", ABOUT_LENGTH)
        minutes = max(1, round((now - first_at).total_seconds() / 60))
        lines = [
            self._staff(
                "incidents.alert.title",
                count=verdict.count,
                about=about,
                minutes=minutes,
                usual=f"{verdict.usual_per_hour:.1f}",
                category=self._category_titles.get(ticket.category, ticket.category),
            )
        ]
        for sample_id in alert.sample_ticket_ids:
            sample = await uow.tickets.get(ticket_id=sample_id)
            if sample is not None:
                lines.append(
                    self._staff(
                        "incidents.alert.sample",
                        number=sample.number,
                        text=_short(sample.description or "", ABOUT_LENGTH),
                    )
                )
        html = "\n".join(lines)
        for chat_id in self._alert_chats():
            await enqueue_text(
                uow,
                key=f"incident-alert:{alert.id}:{chat_id}",
                chat_id=chat_id,
                html=html,
                now=now,
                buttons=self._buttons.alert(alert.id, self.config.staff_locale),
            )
        return alert

    def _alert_chats(self) -> list[int]:
        chats = [self.config.staff_chat_id] if self.config.staff_chat_id is not None else []
        return chats + [s for s in self.config.supervisor_ids if s not in chats]

    async def sweep(self) -> int:
        """All-clears for alerts whose cluster calmed down (no new ticket for a window) and
        resolutions left unfinished by a restart; returns how many alerts were closed."""
        now = self._clock.now()
        policy = self.config.policy
        closed = 0
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            for alert in await repo.open_alerts(last_before=now - policy.window):
                if not is_calm(alert.last_ticket_at, now, policy):
                    continue
                assert alert.id is not None
                if not await repo.claim_alert(alert_id=alert.id, status="calm", now=now):
                    continue
                closed += 1
                html = self._staff(
                    "incidents.alert.all_clear",
                    count=alert.count,
                    category=self._category_titles.get(alert.category, alert.category),
                )
                for chat_id in self._alert_chats():
                    await enqueue_text(
                        uow,
                        key=f"incident-calm:{alert.id}:{chat_id}",
                        chat_id=chat_id,
                        html=html,
                        now=now,
                    )
            unfinished = await repo.resolved_with_unsettled()
        for incident_id in unfinished:
            await self._settle(incident_id)
        self._notify()
        return closed

    # ------------------------------------------------------------------------ alerts

    async def dismiss(self, alert_id: int, agent: AgentRef) -> IncidentAlert:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            alert = await repo.alert(alert_id=alert_id)
            if alert is None:
                raise IncidentError("incidents.error.no_alert")
            if not await repo.claim_alert(alert_id=alert_id, status="dismissed", now=now):
                raise IncidentError("incidents.error.alert_handled")
            alert.status = "dismissed"
            return alert

    async def alert_tickets(self, alert_id: int) -> tuple[IncidentAlert, Sequence[Ticket]]:
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            alert = await repo.alert(alert_id=alert_id)
            if alert is None:
                raise IncidentError("incidents.error.no_alert")
            tickets = []
            for ticket_id in await repo.cluster_ticket_ids(cluster_id=alert.cluster_id):
                ticket = await uow.tickets.get(ticket_id=ticket_id)
                if ticket is not None:
                    tickets.append(ticket)
            return alert, tickets

    # --------------------------------------------------------------------- incidents

    async def declare(
        self,
        *,
        agent: AgentRef,
        title: str | None = None,
        alert_id: int | None = None,
        ticket_id: int | None = None,
    ) -> Incident:
        """A new incident: from an alert (its cluster's tickets linked) or by hand with a title
        (and the ticket whose topic it was declared in, if any)."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            alert: IncidentAlert | None = None
            members: list[int] = []
            if alert_id is not None:
                alert = await repo.alert(alert_id=alert_id, lock=True)
                if alert is None:
                    raise IncidentError("incidents.error.no_alert")
                if alert.status == "declared" and alert.incident_id is not None:
                    raise IncidentError("incidents.error.alert_handled")
                if alert.status == "dismissed":
                    raise IncidentError("incidents.error.alert_handled")
                members = await repo.cluster_ticket_ids(cluster_id=alert.cluster_id)
                seed = await uow.tickets.get(ticket_id=alert.cluster_id)
                title = title or _short((seed.description if seed else "") or "", ABOUT_LENGTH)
            elif ticket_id is not None:
                members = [ticket_id]
            title = _short(title or "", 200)
            if not title:
                raise IncidentError("incidents.usage.incident")
            number = format_incident_number(await uow.tickets.next_sequence(name="incident"))
            sig_source = [title]
            category: str | None = alert.category if alert else None
            if alert is None and ticket_id is not None:
                ticket = await uow.tickets.get(ticket_id=ticket_id)
                if ticket is not None:
                    category = ticket.category
                    sig_source.append(ticket.description or "")
            incident = await repo.add(
                Incident(
                    number=number,
                    title=title,
                    public_text=title,
                    category=category,
                    signature=signature(" ".join(sig_source)),
                    declared_by=agent.user_id,
                    first_ticket_at=alert.first_ticket_at if alert else None,
                    alerted_at=alert.alerted_at if alert else None,
                    declared_at=now,
                    updated_at=now,
                )
            )
            assert incident.id is not None
            if alert is not None:
                alert.status = "declared"
                alert.incident_id = incident.id
                alert.closed_at = now
                uow.session.add(alert)
            for member in members:
                ticket = await uow.tickets.get(ticket_id=member)
                if ticket is not None and await repo.link_of(ticket_id=member) is None:
                    how = "cluster" if alert is not None else "manual"
                    await self._link(
                        uow, repo, incident.id, ticket, how=how, by=agent.user_id, now=now
                    )
        self._notify()
        return incident

    async def set_topic(
        self, incident_id: int, *, topic_id: int | None, card_message_id: int
    ) -> None:
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await repo.get(incident_id=incident_id)
            if incident is not None:
                incident.topic_id = topic_id
                incident.card_message_id = card_message_id
                await repo.save(incident)

    async def by_topic(self, topic_id: int) -> Incident | None:
        async with self._database.unit_of_work() as uow:
            return await IncidentRepository(uow.session).by_topic(topic_id=topic_id)

    async def by_number(self, number: str) -> Incident | None:
        async with self._database.unit_of_work() as uow:
            return await IncidentRepository(uow.session).by_number(number=number)

    async def view(self, incident_id: int) -> IncidentView:
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await repo.get(incident_id=incident_id)
            if incident is None:
                raise IncidentError("incidents.error.no_incident")
            linked = await repo.linked(incident_id=incident_id)
            return IncidentView(
                incident,
                [LinkedView(t.number, t.status, t.id or 0) for _link, t, _c in linked],
            )

    async def open_views(self) -> list[IncidentView]:
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            views = []
            for incident in await repo.open_incidents():
                assert incident.id is not None
                linked = await repo.linked(incident_id=incident.id)
                views.append(
                    IncidentView(
                        incident,
                        [LinkedView(t.number, t.status, t.id or 0) for _l, t, _c in linked],
                    )
                )
            return views

    async def for_ticket(self, ticket_id: int) -> tuple[Incident | None, Incident | None]:
        """The incident a ticket is linked to, and the open one suggested for it (card)."""
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            link = await repo.link_of(ticket_id=ticket_id)
            if link is not None:
                return await repo.get(incident_id=link.incident_id), None
            observation = await repo.observation(ticket_id=ticket_id)
            if observation is None or observation.suggested_incident_id is None:
                return None, None
            suggested = await repo.get(incident_id=observation.suggested_incident_id)
            if suggested is None or suggested.status not in IncidentStatus.OPEN:
                return None, None
            return None, suggested

    async def set_public_text(self, incident_id: int, text: str) -> Incident:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await self._open(repo, incident_id)
            incident.public_text = text
            incident.updated_at = now
            await repo.save(incident)
            return incident

    async def set_status(self, incident_id: int, status: str) -> Incident:
        if status not in IncidentStatus.OPEN:
            raise IncidentError("incidents.usage.status")
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await self._open(repo, incident_id)
            order = IncidentStatus.ORDER
            if order.index(status) <= order.index(incident.status):
                raise IncidentError(
                    "incidents.error.status_back",
                    current=self._staff_plain(f"incidents.status.{incident.status}"),
                )
            incident.status = status
            incident.updated_at = now
            await repo.save(incident)
            return incident

    @staticmethod
    async def _open(repo: IncidentRepository, incident_id: int) -> Incident:
        incident = await repo.get(incident_id=incident_id, lock=True)
        if incident is None:
            raise IncidentError("incidents.error.no_incident")
        if incident.status not in IncidentStatus.OPEN:
            raise IncidentError("incidents.error.resolved", number=incident.number)
        return incident

    # ------------------------------------------------------------------------- links

    async def link(self, number: str, ticket_id: int, agent: AgentRef) -> Incident:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            found = await repo.by_number(number=number)
            if found is None or found.id is None:
                raise IncidentError("incidents.error.unknown_number", number=number)
            incident = await self._open(repo, found.id)
            assert incident.id is not None
            ticket = await uow.tickets.get(ticket_id=ticket_id)
            if ticket is None:
                raise IncidentError("desk.error.no_ticket")
            current = await repo.link_of(ticket_id=ticket_id)
            if current is not None:
                other = await repo.get(incident_id=current.incident_id)
                raise IncidentError(
                    "incidents.error.already_linked",
                    number=ticket.number,
                    incident=other.number if other else "?",
                )
            await self._link(
                uow, repo, incident.id, ticket, how="manual", by=agent.user_id, now=now
            )
        self._notify()
        return incident

    async def unlink(self, ticket_id: int) -> tuple[Incident, Ticket]:
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            ticket = await uow.tickets.get(ticket_id=ticket_id)
            link = await repo.link_of(ticket_id=ticket_id)
            if ticket is None or link is None:
                raise IncidentError("incidents.error.not_linked")
            incident = await repo.get(incident_id=link.incident_id)
            assert incident is not None
            await repo.unlink(link)
            observation = await repo.observation(ticket_id=ticket_id)
            if observation is not None and observation.suggested_incident_id is not None:
                observation.suggested_incident_id = None
                uow.session.add(observation)
            return incident, ticket

    async def _link(
        self,
        uow: UnitOfWork,
        repo: IncidentRepository,
        incident_id: int,
        ticket: Ticket,
        *,
        how: str,
        by: int | None,
        now: datetime,
    ) -> None:
        assert ticket.id is not None
        await repo.link(
            IncidentTicket(
                ticket_id=ticket.id, incident_id=incident_id, how=how, linked_by=by, linked_at=now
            )
        )
        observation = await repo.observation(ticket_id=ticket.id)
        if observation is not None and observation.suggested_incident_id is not None:
            observation.suggested_incident_id = None
            uow.session.add(observation)
        await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)

    async def _tell_known(
        self,
        uow: UnitOfWork,
        repo: IncidentRepository,
        incident_id: int,
        ticket: Ticket,
        now: datetime,
    ) -> None:
        incident = await repo.get(incident_id=incident_id)
        customer = await uow.customers.get(customer_id=ticket.customer_id)
        if incident is None or customer is None:
            return
        await enqueue_text(
            uow,
            key=f"incident-known:{incident_id}:{ticket.id}",
            chat_id=customer.telegram_id,
            html=self._catalogs.render(
                "incidents.customer.known",
                customer.locale,
                number=ticket.number,
                text=incident.public_text,
            ),
            now=now,
            ticket_id=ticket.id,
        )

    # ------------------------------------------------------------- updates, resolution

    async def post_update(self, incident_id: int, text: str, agent: AgentRef) -> int:
        """Send an update to every linked customer (once each); returns how many."""
        text = text.strip()
        if not text:
            raise IncidentError("incidents.usage.update")
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await self._open(repo, incident_id)
            update = await repo.add_update(
                IncidentUpdate(incident_id=incident_id, text=text, author_id=agent.user_id, at=now)
            )
            customers: set[int] = set()
            messages: list[tuple[str, int, str, int | None]] = []
            for customer_id, chat_id, locale, ticket_id, number in await repo.recipients(
                incident_id=incident_id
            ):
                if customer_id in customers:
                    continue
                customers.add(customer_id)
                html = self._catalogs.render(
                    "incidents.customer.update",
                    locale,
                    number=number,
                    title=incident.title,
                    text=text,
                )
                key = f"incident-update:{update.id}:{customer_id}"
                messages.append((key, chat_id, html, ticket_id))
            await enqueue_texts(uow, messages=messages, kind=INCIDENT_UPDATE, now=now)
            update.recipients = len(customers)
            uow.session.add(update)
        self._notify()
        return len(customers)

    async def resolve(
        self, incident_id: int, agent: AgentRef, *, resolution: ResolutionType, text: str
    ) -> Resolution:
        """Resolve the incident and every linked ticket still open (one message each, through
        the desk's resolve use case); tickets resolved or closed already are left alone."""
        text = text.strip()
        if not text:
            raise IncidentError("incidents.usage.resolve")
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await self._open(repo, incident_id)
            incident.status = IncidentStatus.RESOLVED
            incident.resolved_at = now
            incident.resolution_type = resolution.value
            incident.resolution_text = text
            incident.resolved_by = agent.user_id
            incident.updated_at = now
            await repo.save(incident)
        resolved, left_alone = await self._settle(incident_id, agent)
        return Resolution(incident, resolved, left_alone)

    async def _settle(self, incident_id: int, agent: AgentRef | None = None) -> tuple[int, int]:
        """Apply a resolved incident's decision to each linked ticket not done yet (by the
        agent who resolved it); tickets no longer open are left alone."""
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incident = await repo.get(incident_id=incident_id)
            pending = await repo.unsettled(incident_id=incident_id)
            if agent is None and incident is not None and incident.resolved_by is not None:
                known = await uow.agents.get(telegram_id=incident.resolved_by)
                if known is not None:
                    agent = AgentRef(known.telegram_id, known.display_name, known.username)
        if incident is None or incident.resolution_type is None:
            return 0, 0
        if agent is None:
            agent = AgentRef(incident.resolved_by or 0, self._staff_plain("incidents.agent_name"))
        resolution = ResolutionType(incident.resolution_type)
        resolved = left_alone = 0
        for ticket_id in pending:
            async with self._database.unit_of_work() as uow:
                ticket = await uow.tickets.get(ticket_id=ticket_id)
                still_open = ticket is not None and ticket.status in OPEN_TICKET_STATUSES
            done = False
            if still_open:
                try:
                    await self._desk.resolve(
                        ticket_id,
                        agent,
                        resolution=resolution,
                        text=incident.resolution_text or "",
                        cause=f"incident-resolve:{incident_id}:{ticket_id}",
                        customer_kind=INCIDENT_RESOLVED,
                    )
                    done = True
                except (IllegalTransition, DeskError):
                    pass  # resolved or closed in the meantime (by an agent, or a sweep)
            resolved += done
            left_alone += not done
            async with self._database.unit_of_work() as uow:
                await IncidentRepository(uow.session).settle(
                    ticket_id=ticket_id, now=self._clock.now()
                )
        self._notify()
        return resolved, left_alone

    # ------------------------------------------------------------------- statistics

    async def figures(self, *, since: datetime, until: datetime) -> IncidentFigures:
        """Incidents declared in [since, until): how many, their linked tickets, the median
        time to detect (cluster's first ticket to the alert) and to resolve (detection, or
        the declaration of an incident declared by hand, to resolution)."""
        async with self._database.unit_of_work() as uow:
            repo = IncidentRepository(uow.session)
            incidents = list(await repo.between(since=since, until=until))
            linked = await repo.count_linked(incident_ids=[i.id for i in incidents if i.id])
        detect = [
            i.alerted_at - i.first_ticket_at
            for i in incidents
            if i.alerted_at is not None and i.first_ticket_at is not None
        ]
        resolve = [
            i.resolved_at - (i.first_ticket_at or i.declared_at)
            for i in incidents
            if i.resolved_at is not None
        ]
        return IncidentFigures(len(incidents), linked, _median(detect), _median(resolve))
