"""Internal notes: what an agent writes for colleagues, never sent to the customer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.services.desk.common import AgentMessage, AgentRef
from bot.services.desk.notices import Notices
from bot.services.desk.steps import TicketSteps
from bot.services.outbox import Notify
from storage.models import TicketMessage
from storage.unit_of_work import Database


@dataclass(frozen=True, slots=True)
class AddNote:
    database: Database
    clock: Clock
    steps: TicketSteps
    notices: Notices
    notify: Notify

    async def __call__(self, ticket_id: int, agent: AgentRef, message: AgentMessage) -> None:
        now = self.clock.now()
        async with self.database.unit_of_work() as uow:
            if await uow.staff_tickets.message_by_telegram_id(
                chat_id=message.chat_id, telegram_message_id=message.message_id
            ):
                return  # the update came again: kept the first time
            ticket, customer = await self.steps.load_for_agent(uow, ticket_id, agent)
            await uow.messages.add(
                message=TicketMessage(
                    ticket_id=ticket.id,
                    customer_id=customer.id,
                    direction="note",
                    author_id=agent.user_id,
                    content_type=message.content_type,
                    text=message.plain,
                    chat_id=message.chat_id,
                    telegram_message_id=message.message_id,
                    visible_to_customer=False,
                    created_at=now,
                )
            )
            await self.notices.to_topic(
                uow,
                ticket,
                key=f"note:{message.chat_id}:{message.message_id}",
                html_text=self.notices.staff_text("desk.note.saved"),
                now=now,
                reply_to=message.message_id,
                silent=True,
            )
        self.notify()
