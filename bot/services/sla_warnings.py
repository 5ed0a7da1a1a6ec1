"""The warning sweep: a target is close to due, so the ticket's topic and its assignee hear it."""

from __future__ import annotations

from datetime import datetime

from bot.domain.service_time import add_service_time
from bot.domain.sla import SlaPolicy
from bot.services.sla_notices import agent_names, assignee_mention, sla_event
from bot.services.sweep_config import SweepConfig
from bot.services.sweep_messages import StaffTexts, linked, text_payload, topic_url
from storage.sweep_repository import ClaimedTicket, OutboxDraft, SlaTargetName
from storage.unit_of_work import Database


class SlaWarnings:
    def __init__(
        self, database: Database, sla: SlaPolicy, config: SweepConfig, staff: StaffTexts
    ) -> None:
        self._database = database
        self._sla = sla
        self._config = config
        self._staff = staff

    def bounds(self, target: SlaTargetName, now: datetime) -> dict[str, datetime]:
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

    async def run(self, target: SlaTargetName, now: datetime) -> int:
        """Warn about every ticket whose `target` entered its warning share; returns how many."""
        async with self._database.unit_of_work() as uow:
            repo = uow.sweeps
            claimed = await repo.claim_warnings(
                target=target,
                now=now,
                bounds=self.bounds(target, now),
                limit=self._config.batch_size,
            )
            await repo.add_events(
                events=[sla_event("sla_warning", ticket, target) for ticket in claimed], at=now
            )
            names = await agent_names(uow, claimed)
            await repo.enqueue(
                messages=[
                    message
                    for ticket in claimed
                    for message in self._messages(ticket, target, names)
                ],
                now=now,
            )
        return len(claimed)

    def _messages(
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
            assignee = assignee_mention(self._staff, ticket, names)
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
