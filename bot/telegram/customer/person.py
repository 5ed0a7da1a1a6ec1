""" "Talk to a person": the customer's message goes to a person, in a new question if needed."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery

from bot.domain.tickets import TicketKind
from bot.services.intake import ComplaintForm
from bot.services.tickets import TicketService
from bot.telegram.callbacks import MenuCallback
from bot.telegram.i18n import t
from storage.models import Customer

QUESTION_CATEGORY = "question"


def build_router() -> Router:
    router = Router(name="customer_person")

    @router.callback_query(MenuCallback.filter(F.action == "person"))
    async def talk_to_person(
        query: CallbackQuery, tickets: TicketService, customer: Customer
    ) -> None:
        assert customer.id is not None
        await query.answer()
        open_tickets = await tickets.open_tickets(customer_id=customer.id)
        current = next((tk for tk in open_tickets if tk.id == customer.current_ticket_id), None)
        target = current or (open_tickets[0] if open_tickets else None)
        if target is not None and target.id is not None:
            await tickets.choose_ticket(customer_id=customer.id, ticket_id=target.id)
            await query.bot.send_message(  # type: ignore[union-attr]
                customer.telegram_id, t("desk.person.existing", number=target.number)
            )
            return
        question = await tickets.unplaced_text(customer_id=customer.id)
        ticket = await tickets.open_complaint(
            customer_id=customer.id,
            form=ComplaintForm(
                category=QUESTION_CATEGORY, description=question, incident_date=None
            ),
            kind=TicketKind.QUESTION,
        )
        await query.bot.send_message(  # type: ignore[union-attr]
            customer.telegram_id, t("desk.person.opened", number=ticket.number)
        )

    return router
