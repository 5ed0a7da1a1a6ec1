"""The auto-close sweep: a resolved ticket nobody reacted to for a while is closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.sla import SlaPolicy
from bot.domain.tickets import Actor, TicketStatus
from bot.locales.catalog import Catalogs
from bot.services.sweep_config import SweepConfig
from bot.services.sweep_messages import StaffTexts, text_payload
from bot.services.transitions import apply_transition
from storage.sweep_repository import OutboxDraft
from storage.unit_of_work import Database


class AutoCloseSweep:
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

    async def run(self, now: datetime) -> int:
        """Close tickets left `resolved` without a reaction for ``auto_close_after``; tell the
        customer and the ticket's topic. Returns how many were closed."""
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
