"""The breach sweep: a target was missed, so the card shows it and supervisors get a digest.

One digest per recipient per sweep, so a backlog of breaches is not a flood; with
escalation on, each breached ticket also moves one priority level up (once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.sla import SlaPolicy
from bot.domain.tickets import Actor, Priority
from bot.locales.catalog import Catalogs, Markup
from bot.services.desk.common import customer_name
from bot.services.outbox import enqueue_card_refresh
from bot.services.sla_notices import agent_names, assignee_mention, sla_event
from bot.services.sweep_config import SweepConfig
from bot.services.sweep_messages import StaffTexts, linked, text_payload, topic_url
from bot.services.transitions import change_priority
from storage.sweep_repository import ClaimedTicket, OutboxDraft, SlaTargetName
from storage.unit_of_work import Database, UnitOfWork

# Highest first: a breach with escalation raising priority moves a ticket one step up.
PRIORITY_ORDER: tuple[Priority, ...] = tuple(Priority)
DIGEST_LINES = 20

# Per ticket of a digest: its assignee (a mention) and its customer's name.
Details = dict[int, tuple[Markup | str, str]]


def raised_priority(priority: Priority) -> Priority:
    """One step more urgent; the most urgent level stays as it is."""
    return PRIORITY_ORDER[max(PRIORITY_ORDER.index(priority) - 1, 0)]


class SlaBreaches:
    def __init__(
        self,
        database: Database,
        sla: SlaPolicy,
        catalogs: Catalogs,
        config: SweepConfig,
        staff: StaffTexts,
    ) -> None:
        self._database = database
        self._sla = sla
        self._catalogs = catalogs
        self._config = config
        self._staff = staff

    async def run(self, target: SlaTargetName, now: datetime) -> int:
        """Mark every ticket whose `target` is past due and tell the desk; returns how many."""
        async with self._database.unit_of_work() as uow:
            repo = uow.sweeps
            claimed = await repo.claim_breaches(
                target=target, now=now, limit=self._config.batch_size
            )
            if not claimed:
                return 0
            await repo.add_events(
                events=[sla_event("sla_breach", ticket, target) for ticket in claimed], at=now
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

    async def _digest_details(self, uow: UnitOfWork, claimed: Sequence[ClaimedTicket]) -> Details:
        names = await agent_names(uow, claimed[:DIGEST_LINES])
        details: Details = {}
        for ticket in claimed[:DIGEST_LINES]:
            customer = await uow.customers.get(customer_id=ticket.customer_id)
            who = customer_name(customer) if customer is not None else "—"
            details[ticket.id] = (assignee_mention(self._staff, ticket, names), who)
        return details

    async def _escalations(
        self,
        uow: UnitOfWork,
        claimed: Sequence[ClaimedTicket],
        target: SlaTargetName,
        now: datetime,
        details: Details,
    ) -> list[OutboxDraft]:
        """One digest per recipient, each in its recipient's language (a supervisor's as a
        customer of the bot, else the desk's)."""
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
        details: Details,
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
