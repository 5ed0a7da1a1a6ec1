"""Whatever a customer sends outside a dialogue: stored, then put on a ticket or answered."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message, Update

from bot.domain.tickets import TicketStatus
from bot.services.knowledge import KnowledgeService
from bot.services.outbox import Outbox
from bot.services.tickets import TicketService
from bot.telegram.customer.attachments import incoming
from bot.telegram.customer.knowledge import answer_question
from bot.telegram.i18n import t
from bot.telegram.keyboards import choice_menu
from bot.telegram.stale_buttons import out_of_date
from storage.models import Customer, Ticket


async def anything_else(
    message: Message,
    tickets: TicketService,
    knowledge: KnowledgeService,
    customer: Customer,
    outbox: Outbox,
    event_update: Update | None = None,
) -> None:
    assert customer.id is not None

    def acknowledgement(target: Ticket) -> str | None:
        # Until someone answers, say where the message went; after that it is a conversation.
        if target.status == TicketStatus.NEW and message.media_group_id is None:
            return t("ticket.added_to", number=target.number)
        return None

    target, _ = await tickets.place_customer_message(
        customer_id=customer.id,
        message=incoming(message, event_update.update_id if event_update else None),
        acknowledgement=acknowledgement,
    )
    if target is not None:
        outbox.notify()  # the acknowledgement, also without a staff group to relay to
        return
    question = (message.text or "").strip()
    if question and not question.startswith("/"):
        await answer_question(message, question, knowledge, customer)
        return
    await message.answer(t("fallback.choice"), reply_markup=choice_menu())


def build_router() -> Router:
    router = Router(name="customer_fallback")
    router.message.register(anything_else)
    router.callback_query.register(out_of_date)
    return router
