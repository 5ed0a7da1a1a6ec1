"""Submitting the form: the complaint is registered and the customer gets its receipt."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext

from bot.domain.tickets import Priority
from bot.services.intake import ComplaintForm, FileRef
from bot.services.tickets import TicketService
from bot.telegram.customer.form_flow import FormEngine, go_to
from bot.telegram.formatting import iso_date, local_datetime
from bot.telegram.i18n import t
from bot.telegram.keyboards import after_registration
from storage.models import Customer, Ticket


async def submit(
    bot: Bot,
    chat_id: int,
    engine: FormEngine,
    state: FSMContext,
    tickets: TicketService,
    customer: Customer,
    answers: dict[str, Any],
    form_id: str | None,
) -> Ticket | None:
    """Register the complaint; None when an answer is still missing (it is asked instead)."""
    schema = engine.schema
    if not schema.is_complete(answers):
        missing = schema.first_unanswered(answers)
        assert missing is not None
        await go_to(bot, chat_id, engine, state, missing, answers, editing=True)
        return None
    category = schema.category(answers.get("category"))
    main_ids = {"category", "description", "incident_date", "attachments", "contact"}
    form = ComplaintForm(
        category=str(answers.get("category")),
        description=str(answers.get("description") or ""),
        incident_date=iso_date(answers.get("incident_date")),
        fields={k: v for k, v in answers.items() if k not in main_ids},
        files=tuple(FileRef.from_dict(f) for f in answers.get("attachments") or []),
        contact_phone=answers.get("contact"),
        priority=category.priority if category else Priority.NORMAL,
    )
    assert customer.id is not None
    ticket = await tickets.open_complaint(customer_id=customer.id, form=form, form_id=form_id)
    await state.clear()
    assert ticket.id is not None
    await bot.send_message(
        chat_id,
        t(
            "ticket.registered",
            number=ticket.number,
            registered=local_datetime(ticket.created_at, engine.zone),
            due=_due_text(ticket.first_response_due, engine.zone),
        ),
        reply_markup=after_registration(ticket.id),
    )
    return ticket


def _due_text(due: datetime | None, zone: ZoneInfo) -> str:
    return local_datetime(due, zone) if due else "—"
