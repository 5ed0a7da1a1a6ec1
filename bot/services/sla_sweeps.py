"""Service-level sweeps over the stored tickets: warnings, breaches, "still working", auto-close.

Every sweep reads only the tickets that need an action now (indexed range queries on stored
due times and marks), marks them in the same transaction that writes their events and outbox
rows, and so is safe to run again at any time: a second run finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy, add_service_time
from bot.domain.tickets import Actor, Priority, TicketStatus
from bot.locales.catalog import Catalogs, Markup
from bot.services.desk.common import customer_name, mention
from bot.services.outbox import enqueue_card_refresh
from bot.services.sweep_messages import StaffTexts, linked, text_payload, topic_url
from bot.services.transitions import apply_transition, change_priority
from storage.sweep_repository import (
    ClaimedTicket,
    EventDraft,
    OutboxDraft,
    SlaTargetName,
)
from storage.unit_of_work import Database, UnitOfWork

TARGETS: tuple[SlaTargetName, ...] = ("first_response", "resolution")
# Highest first: a breach with escalation raising priority moves a ticket one step up.
PRIORITY_ORDER: tuple[Priority, ...] = tuple(Priority)
DIGEST_LINES = 20


@dataclass(frozen=True)
class SweepConfig:
    staff_chat_id: int | None
    staff_locale: str
    zone: ZoneInfo
    supervisor_ids: tuple[int, ...] = ()
    still_working_after: timedelta = timedelta(hours=24)
    auto_close_after: timedelta = timedelta(days=7)
    raises_priority: bool = False
    batch_size: int = 500


@dataclass
class SlaSweepReport:
    warned: dict[str, int] = field(default_factory=dict)
    breached: dict[str, int] = field(default_factory=dict)
    still_working: int = 0
    auto_closed: int = 0

    @property
    def total(self) -> int:
        return (
            sum(self.warned.values())
            + sum(self.breached.values())
            + self.still_working
            + self.auto_closed
        )


def raised_priority(priority: Priority) -> Priority:
    """One step more urgent; the most urgent level stays as it is."""
    return PRIORITY_ORDER[max(PRIORITY_ORDER.index(priority) - 1, 0)]


class SlaSweeps:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        sla: SlaPolicy,
        catalogs: Catalogs,
        config: SweepConfig,
    ) -> None:
        self._database = database
        self._clock = clock
        self._sla = sla
        self._catalogs = catalogs
        self._config = config
        self._staff = StaffTexts(catalogs, config.staff_locale, config.zone)

    async def run_once(self) -> SlaSweepReport:
        report = SlaSweepReport()
        now = self._clock.now()
        for target in TARGETS:
            report.breached[target] = await self.breaches(target, now)
        for target in TARGETS:
            report.warned[target] = await self.warnings(target, now)
        report.still_working = await self.still_working(now)
        report.auto_closed = await self.auto_close(now)
        return report

    # ----------------------------------------------------------------- warnings

    def warning_bounds(self, target: SlaTargetName, now: datetime) -> dict[str, datetime]:
        """Per priority, the latest due time whose warning share has passed at ``now``.

        The warning is due when only ``1 - warn_fraction`` of the target is left, i.e. when
        the due time is at most that much service time after ``now``.
        """
        share = 1 - self._sla.warn_fraction
        calendar = self._sla.service_calendar
        bounds: dict[str, datetime] = {}
        for priority, targets in self._sla.targets.items():
            allowance = getattr(targets, target) * share
            bounds[priority] = add_service_time(now, allowance, calendar=calendar)
        return bounds

    async def warnings(self, target: SlaTargetName, now: datetime) -> int:
        async with self._database.unit_of_work() as uow:
            repo = uow.sweeps
            claimed = await repo.claim_warnings(
                target=target,
                now=now,
                bounds=self.warning_bounds(target, now),
                limit=self._config.batch_size,
            )
            await repo.add_events(
                events=[self._event("sla_warning", ticket, target) for ticket in claimed], at=now
            )
            names = await self._agent_names(uow, claimed)
            await repo.enqueue(
                messages=[
                    message
                    for ticket in claimed
                    for message in self._warning_messages(ticket, target, names)
                ],
                now=now,
            )
        return len(claimed)

    async def _agent_names(
        self, uow: UnitOfWork, claimed: Sequence[ClaimedTicket]
    ) -> dict[int, str]:
        ids = sorted({t.assignee_id for t in claimed if t.assignee_id is not None})
        agents = await uow.agents.by_ids(ids=ids)
        return {agent.telegram_id: agent.display_name for agent in agents if agent.display_name}

    def _assignee(self, ticket: ClaimedTicket, names: dict[int, str]) -> Markup | str:
        if ticket.assignee_id is None:
            return self._staff.plain("sla.nobody")
        name = names.get(ticket.assignee_id) or self._staff.plain("sla.assignee_label")
        return mention(ticket.assignee_id, name)

    def _warning_messages(
        self, ticket: ClaimedTicket, target: SlaTargetName, names: dict[int, str]
    ) -> list[OutboxDraft]:
        """The warning in the ticket's topic, naming the assignee, and to the assignee
        privately with a link to the topic."""
        chat_id = self._config.staff_chat_id
        if chat_id is None or ticket.due is None:
            return []
        warning = self._staff.render(
            f"sla.warning.{target}",
            number=ticket.number,
            percent=round(self._sla.warn_fraction * 100),
            due=self._staff.moment(ticket.due),
        )
        lines = [warning]
        if ticket.assignee_id is not None:
            assignee = self._assignee(ticket, names)
            lines.append(self._staff.render("sla.warning.assignee", assignee=assignee))
        messages = [
            OutboxDraft(
                key=f"sla-warn:{ticket.id}:{target}",
                chat_id=chat_id,
                thread_id=ticket.topic_id,
                ticket_id=ticket.id,
                payload=text_payload("\n".join(lines), ticket_topic=True),
            )
        ]
        if ticket.assignee_id is not None:
            link = linked(
                self._staff.plain("sla.open_topic", number=ticket.number),
                topic_url(chat_id, ticket.topic_id),
            )
            messages.append(
                OutboxDraft(
                    key=f"sla-warn-agent:{ticket.id}:{target}",
                    chat_id=ticket.assignee_id,
                    ticket_id=ticket.id,
                    payload=text_payload(f"{warning}\n{link}"),
                )
            )
        return messages

    # ----------------------------------------------------------------- breaches

    async def breaches(self, target: SlaTargetName, now: datetime) -> int:
        async with self._database.unit_of_work() as uow:
            repo = uow.sweeps
            claimed = await repo.claim_breaches(
                target=target, now=now, limit=self._config.batch_size
            )
            if not claimed:
                return 0
            await repo.add_events(
                events=[self._event("sla_breach", ticket, target) for ticket in claimed], at=now
            )
            for ticket in claimed:  # the card and topic name show the ticket is overdue
                await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
            details = await self._digest_details(uow, claimed)
            await repo.enqueue(
                messages=await self._escalations(uow, claimed, target, now, details), now=now
            )
            if self._config.raises_priority:
                await self._raise_priorities(uow, claimed, now)
        return len(claimed)

    async def _digest_details(
        self, uow: UnitOfWork, claimed: Sequence[ClaimedTicket]
    ) -> dict[int, tuple[Markup | str, str]]:
        """Per ticket of the digest: its assignee (a mention) and its customer's name."""
        names = await self._agent_names(uow, claimed[:DIGEST_LINES])
        details: dict[int, tuple[Markup | str, str]] = {}
        for ticket in claimed[:DIGEST_LINES]:
            customer = await uow.customers.get(customer_id=ticket.customer_id)
            who = customer_name(customer) if customer is not None else "—"
            details[ticket.id] = (self._assignee(ticket, names), who)
        return details

    async def _escalations(
        self,
        uow: UnitOfWork,
        claimed: Sequence[ClaimedTicket],
        target: SlaTargetName,
        now: datetime,
        details: dict[int, tuple[Markup | str, str]],
    ) -> list[OutboxDraft]:
        """One digest per recipient per sweep, so a backlog of breaches is not a flood; each
        in its recipient's language (a supervisor's as a customer of the bot, else the desk's)."""
        recipients: dict[int, str] = {}
        for supervisor in self._config.supervisor_ids:
            known = await uow.customers.by_telegram_id(telegram_id=supervisor)
            recipients[supervisor] = known.locale if known is not None else self._staff.locale
        if self._config.staff_chat_id is not None:
            recipients.setdefault(self._config.staff_chat_id, self._staff.locale)
        batch = f"{target}:{claimed[0].id}:{now.isoformat()}"
        return [
            OutboxDraft(
                key=f"sla-escalate:{chat}:{batch}",
                chat_id=chat,
                payload=text_payload(self._digest(claimed, target, details, locale)),
            )
            for chat, locale in recipients.items()
        ]

    def _digest(
        self,
        claimed: Sequence[ClaimedTicket],
        target: SlaTargetName,
        details: dict[int, tuple[Markup | str, str]],
        locale: str,
    ) -> str:
        zone, catalogs, chat = self._config.zone, self._catalogs, self._config.staff_chat_id
        lines = [catalogs.render(f"sla.breach.title.{target}", locale, count=len(claimed))]
        for ticket in claimed[:DIGEST_LINES]:
            assignee, customer = details[ticket.id]
            if ticket.assignee_id is None:
                assignee = catalogs.plain("sla.nobody", locale)
            url = topic_url(chat, ticket.topic_id) if chat is not None else None
            lines.append(
                catalogs.render(
                    "sla.breach.line",
                    locale,
                    number=linked(ticket.number, url),
                    priority=catalogs.plain(f"sla.priority.{ticket.priority}", locale),
                    due=catalogs.format_datetime(ticket.due, zone, locale) if ticket.due else "—",
                    assignee=assignee,
                    customer=customer,
                )
            )
        if len(claimed) > DIGEST_LINES:
            lines.append(
                catalogs.render("sla.breach.more", locale, count=len(claimed) - DIGEST_LINES)
            )
        return "\n".join(lines)

    async def _raise_priorities(
        self, uow: UnitOfWork, claimed: Sequence[ClaimedTicket], now: datetime
    ) -> None:
        """Raise each ticket one level on its first breach; due times follow the new level.

        Only once per ticket: a raised priority shortens the other target, which would
        otherwise breach at once and raise the ticket again.
        """
        for row in claimed:
            ticket = await uow.tickets.get(ticket_id=row.id, for_update=True)
            if ticket is None:
                continue
            breaches = (ticket.first_response_breached_at, ticket.resolution_breached_at)
            if all(mark is not None for mark in breaches):
                continue  # raised on its first breach already: one step per ticket
            new = raised_priority(ticket.priority)
            if new == ticket.priority:
                continue
            await change_priority(
                uow,
                ticket=ticket,
                priority=new,
                actor=Actor.system(),
                now=now,
                sla=self._sla,
                reason="sla_breach",
            )

    # ----------------------------------------------------------------- still working

    async def still_working(self, now: datetime) -> int:
        """Tell customers waiting ``still_working_after`` without an answer that we are on it.

        Each ticket is checked once per period: when staff answered within the period the
        next check moves to one period after that answer, otherwise the message is queued
        and the next check is one period later.
        """
        period = self._config.still_working_after
        async with self._database.unit_of_work() as uow:
            repo = uow.sweeps
            candidates = await repo.still_working_candidates(
                now=now, period=period, limit=self._config.batch_size
            )
            if not candidates:
                return 0
            activity = await repo.last_staff_activity(ticket_ids=[c.id for c in candidates])
            next_checks: dict[int, datetime] = {}
            due_now: list[int] = []
            for candidate in candidates:
                answered = [candidate.created_at, candidate.first_response_at]
                answered.append(activity.get(candidate.id))
                last = max(moment for moment in answered if moment is not None)
                if last + period > now:
                    next_checks[candidate.id] = last + period
                else:
                    next_checks[candidate.id] = now + period
                    due_now.append(candidate.id)
            await repo.set_still_working_at(next_checks=next_checks)
            tickets = await repo.tickets_by_ids(ticket_ids=due_now)
            recipients = await repo.recipients(customer_ids=[t.customer_id for t in tickets])
            messages: list[OutboxDraft] = []
            for ticket in tickets:
                recipient = recipients.get(ticket.customer_id)
                if recipient is None or not recipient.reachable:
                    continue
                messages.append(
                    OutboxDraft(
                        key=f"still-working:{ticket.id}:{now.isoformat()}",
                        chat_id=recipient.telegram_id,
                        ticket_id=ticket.id,
                        payload=text_payload(
                            self._catalogs.render(
                                "sla.still_working", recipient.locale, number=ticket.number
                            )
                        ),
                    )
                )
            await repo.add_events(
                events=[
                    EventDraft(ticket_id=ticket.id, kind="still_working", data={})
                    for ticket in tickets
                ],
                at=now,
            )
            await repo.enqueue(messages=messages, now=now)
        return len(tickets)

    # ----------------------------------------------------------------- auto-close

    async def auto_close(self, now: datetime) -> int:
        """Close tickets left `resolved` without a reaction for ``auto_close_after``."""
        async with self._database.unit_of_work() as uow:
            repo = uow.sweeps
            ids = await repo.resolved_before(
                before=now - self._config.auto_close_after, limit=self._config.batch_size
            )
            if not ids:
                return 0
            rows = await repo.tickets_by_ids(ticket_ids=ids)
            recipients = await repo.recipients(customer_ids=[row.customer_id for row in rows])
            days = round(self._config.auto_close_after / timedelta(days=1))
            messages: list[OutboxDraft] = []
            closed = 0
            for ticket_id in ids:
                ticket = await uow.tickets.get(ticket_id=ticket_id, for_update=True)
                if ticket is None or ticket.status != TicketStatus.RESOLVED.value:
                    continue
                await apply_transition(
                    uow,
                    ticket=ticket,
                    target=TicketStatus.CLOSED,
                    actor=Actor.system(),
                    now=now,
                    sla=self._sla,
                    comment="auto_close",
                )
                closed += 1
                recipient = recipients.get(ticket.customer_id)
                if recipient is not None and recipient.reachable:
                    messages.append(
                        OutboxDraft(
                            key=f"auto-close:{ticket_id}:{now.isoformat()}",
                            chat_id=recipient.telegram_id,
                            ticket_id=ticket_id,
                            payload=text_payload(
                                self._catalogs.render(
                                    "sla.auto_closed.customer",
                                    recipient.locale,
                                    number=ticket.number,
                                    days=self._catalogs.count("count.days", recipient.locale, days),
                                )
                            ),
                        )
                    )
                if self._config.staff_chat_id is not None:
                    messages.append(
                        OutboxDraft(
                            key=f"auto-close-topic:{ticket_id}:{now.isoformat()}",
                            chat_id=self._config.staff_chat_id,
                            thread_id=ticket.topic_id,
                            ticket_id=ticket_id,
                            payload=text_payload(
                                self._staff.render(
                                    "sla.auto_closed.staff",
                                    number=ticket.number,
                                    days=self._catalogs.count(
                                        "count.days", self._staff.locale, days
                                    ),
                                ),
                                ticket_topic=True,
                            ),
                        )
                    )
            await repo.enqueue(messages=messages, now=now)
        return closed

    @staticmethod
    def _event(kind: str, ticket: ClaimedTicket, target: SlaTargetName) -> EventDraft:
        return EventDraft(
            ticket_id=ticket.id,
            kind=kind,
            data={
                "target": target,
                "priority": ticket.priority,
                "due": ticket.due.isoformat() if ticket.due else None,
            },
        )
