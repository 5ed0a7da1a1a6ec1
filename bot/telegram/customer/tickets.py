"""`/tickets`: the customer's tickets, one ticket's history, adding details to a ticket."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.clock import Clock
from bot.services.outbox import Outbox
from bot.services.tickets import TicketHistory, TicketNotFound, TicketPage, TicketService
from bot.telegram.callbacks import MenuCallback, TicketsCallback
from bot.telegram.customer.attachments import incoming
from bot.telegram.customer.states import TicketFlow
from bot.telegram.formatting import local_datetime
from bot.telegram.i18n import t, t_count, t_plain
from bot.telegram.keyboards import main_menu
from bot.telegram.text_limits import TEXT_LIMIT, shorten, utf16_len
from storage.models import Customer, Ticket

PAGE_SIZE = 5
HISTORY_LIMIT = 15
PREVIEW_LENGTH = 300


def status_words(status: str) -> str:
    return t(f"status.{status}")


def category_title(category: str, titles: dict[str, str]) -> str:
    return titles.get(category, category)


def _pending_due(ticket: Ticket) -> datetime | None:
    """What the customer waits for next: the first answer, else the resolution (not while
    we wait for the customer); None for finished tickets."""
    if not ticket.status.is_open:
        return None
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        return ticket.first_response_due
    if ticket.waiting_since is None:
        return ticket.resolution_due
    return None


def _due_words(ticket: Ticket, zone: ZoneInfo, now: datetime) -> str:
    due = _pending_due(ticket)
    if due is None:
        return ""
    if due <= now:
        return t("tickets.overdue")
    return t("tickets.due", due=local_datetime(due, zone))


def _page_text(page: TicketPage, zone: ZoneInfo, categories: dict[str, str], now: datetime) -> str:
    if page.total == 0:
        return t("tickets.empty")
    lines = [t("tickets.title", page=page.page + 1, pages=page.pages, total=page.total), ""]
    for ticket in page.items:
        line = t(
            "tickets.line",
            number=ticket.number,
            category=category_title(ticket.category, categories),
            status=status_words(ticket.status),
            updated=local_datetime(ticket.updated_at, zone),
        )
        lines.append(line + _due_words(ticket, zone, now))
    return "\n".join(lines)


def _page_keyboard(page: TicketPage) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for ticket in page.items:
        assert ticket.id is not None
        builder.button(
            text=t_plain("tickets.open_button", number=ticket.number),
            callback_data=TicketsCallback(action="open", ticket_id=ticket.id, page=page.page),
        )
    builder.adjust(1)
    nav = []
    if page.page > 0:
        nav.append(("tickets.prev", page.page - 1))
    if page.page + 1 < page.pages:
        nav.append(("tickets.next", page.page + 1))
    if nav:
        row = InlineKeyboardBuilder()
        for key, target in nav:
            row.button(text=t(key), callback_data=TicketsCallback(action="page", page=target))
        builder.attach(row)
    return builder.as_markup()


def _history_text(
    history: TicketHistory, zone: ZoneInfo, categories: dict[str, str], now: datetime
) -> str:
    ticket = history.ticket
    lines = [
        t(
            "ticket.header",
            number=ticket.number,
            category=category_title(ticket.category, categories),
            status=status_words(ticket.status),
            created=local_datetime(ticket.created_at, zone),
        ),
        t("ticket.description", text=shorten(ticket.description, PREVIEW_LENGTH)),
    ]
    if history.attachment_count:
        lines.append(
            t("ticket.attachments", files=t_count("count.files", history.attachment_count))
        )
    if ticket.first_response_due and ticket.first_response_at is None and ticket.status.is_open:
        due = ticket.first_response_due
        key = "ticket.answer_overdue" if due <= now else "ticket.expect_answer"
        lines.append(t(key, due=local_datetime(due, zone)))
    if ticket.resolution_due and ticket.waiting_since is None and ticket.status.is_open:
        due = ticket.resolution_due
        key = "ticket.resolution_overdue" if due <= now else "sla.ticket.expect_resolution"
        lines.append(t(key, due=local_datetime(due, zone)))
    if ticket.resolution_text and not ticket.status.is_open:
        lines.append(t("ticket.resolution", text=shorten(ticket.resolution_text, PREVIEW_LENGTH)))
    timeline: list[tuple[object, str]] = []
    for event in history.events:
        if event.kind == "status" and event.to_status and event.from_status:
            timeline.append(
                (
                    event.at,
                    t(
                        "history.status",
                        at=local_datetime(event.at, zone),
                        status=status_words(event.to_status),
                    ),
                )
            )
    for message in history.messages:
        key = "history.from_customer" if message.direction == "in" else "history.from_staff"
        body = message.text or t("history.file")
        timeline.append(
            (
                message.created_at,
                t(
                    key,
                    at=local_datetime(message.created_at, zone),
                    text=shorten(body, PREVIEW_LENGTH),
                ),
            )
        )
    if timeline:
        lines += ["", t("history.title")]
        entries = [entry for _, entry in timeline[-HISTORY_LIMIT:]]
        # Long messages full of escaped characters: show fewer of the older ones.
        while len(entries) > 1 and utf16_len("\n".join(lines + entries)) > TEXT_LIMIT:
            entries.pop(0)
        lines += entries
    return "\n".join(lines)


def _history_keyboard(history: TicketHistory, page: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    ticket_id = history.ticket.id or 0
    if history.ticket.status.is_open:
        builder.button(
            text=t("ticket.button.add_details"),
            callback_data=TicketsCallback(action="add", ticket_id=ticket_id),
        )
    builder.button(text=t("tickets.back"), callback_data=TicketsCallback(action="page", page=page))
    builder.adjust(1)
    return builder.as_markup()


async def _send_page(
    bot: Bot,
    chat_id: int,
    tickets: TicketService,
    customer: Customer,
    page_number: int,
    zone: ZoneInfo,
    categories: dict[str, str],
    now: datetime,
) -> None:
    assert customer.id is not None
    page = await tickets.page_for_customer(
        customer_id=customer.id, page=page_number, page_size=PAGE_SIZE
    )
    markup = _page_keyboard(page) if page.total else main_menu()
    text = _page_text(page, zone, categories, now)
    await bot.send_message(chat_id, text, reply_markup=markup)


async def tickets_command(
    message: Message,
    bot: Bot,
    tickets: TicketService,
    customer: Customer,
    business_zone: ZoneInfo,
    category_titles: dict[str, dict[str, str]],
    clock: Clock,
) -> None:
    await _send_page(
        bot,
        message.chat.id,
        tickets,
        customer,
        0,
        business_zone,
        category_titles[customer.locale],
        clock.now(),
    )


async def tickets_page(
    query: CallbackQuery,
    callback_data: TicketsCallback | MenuCallback,
    bot: Bot,
    tickets: TicketService,
    customer: Customer,
    business_zone: ZoneInfo,
    category_titles: dict[str, dict[str, str]],
    clock: Clock,
) -> None:
    """ "My tickets" from the menu (first page) or a page of the list."""
    await query.answer()
    page = callback_data.page if isinstance(callback_data, TicketsCallback) else 0
    await _send_page(
        bot,
        query.from_user.id,
        tickets,
        customer,
        page,
        business_zone,
        category_titles[customer.locale],
        clock.now(),
    )


async def ticket_open(
    query: CallbackQuery,
    callback_data: TicketsCallback,
    bot: Bot,
    tickets: TicketService,
    customer: Customer,
    business_zone: ZoneInfo,
    category_titles: dict[str, dict[str, str]],
    clock: Clock,
) -> None:
    assert customer.id is not None
    try:
        history = await tickets.history_for_customer(
            customer_id=customer.id, ticket_id=callback_data.ticket_id
        )
    except TicketNotFound:
        await query.answer(t("tickets.not_found"), show_alert=True)
        return
    await query.answer()
    await bot.send_message(
        query.from_user.id,
        _history_text(history, business_zone, category_titles[customer.locale], clock.now()),
        reply_markup=_history_keyboard(history, callback_data.page),
    )


async def ticket_add(
    query: CallbackQuery,
    callback_data: TicketsCallback,
    state: FSMContext,
    tickets: TicketService,
    customer: Customer,
) -> None:
    assert customer.id is not None
    try:
        ticket = await tickets.choose_ticket(
            customer_id=customer.id, ticket_id=callback_data.ticket_id
        )
    except TicketNotFound:
        await query.answer(t("tickets.not_found"), show_alert=True)
        return
    if not ticket.status.is_open:
        await query.answer(t("tickets.closed_cannot_add"), show_alert=True)
        return
    await query.answer()
    await state.set_state(TicketFlow.adding)
    await state.update_data(ticket_id=ticket.id)
    if query.message is not None:
        await query.message.answer(
            t("ticket.add_prompt", number=ticket.number), reply_markup=_done_keyboard()
        )


def _done_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("ticket.button.done_adding"), callback_data=TicketsCallback(action="done")
    )
    return builder.as_markup()


async def ticket_add_done(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message is not None:
        await query.message.answer(t("ticket.add_done"), reply_markup=main_menu())


async def ticket_add_message(
    message: Message,
    state: FSMContext,
    tickets: TicketService,
    customer: Customer,
    outbox: Outbox,
    event_update: Update | None = None,
) -> None:
    data = await state.get_data()
    ticket_id = int(data["ticket_id"])
    assert customer.id is not None
    try:
        await tickets.add_customer_message(
            customer_id=customer.id,
            ticket_id=ticket_id,
            message=incoming(message, event_update.update_id if event_update else None),
        )
    except TicketNotFound:
        await state.clear()
        await message.answer(t("tickets.not_found"), reply_markup=main_menu())
        return
    if message.media_group_id is None or data.get("last_group") != message.media_group_id:
        await outbox.send_text(
            key=f"ack:{message.chat.id}:{message.message_id}",
            chat_id=message.chat.id,
            html=t("ticket.added"),
            buttons=[
                [
                    {
                        "text": t_plain("ticket.button.done_adding"),
                        "callback_data": TicketsCallback(action="done").pack(),
                    }
                ]
            ],
        )
    await state.update_data(last_group=message.media_group_id)


def build_router() -> Router:
    router = Router(name="customer_tickets")
    router.message.register(tickets_command, Command("tickets"))
    router.callback_query.register(tickets_page, MenuCallback.filter(F.action == "tickets"))
    router.callback_query.register(tickets_page, TicketsCallback.filter(F.action == "page"))
    router.callback_query.register(ticket_open, TicketsCallback.filter(F.action == "open"))
    router.callback_query.register(ticket_add, TicketsCallback.filter(F.action == "add"))
    router.callback_query.register(ticket_add_done, TicketsCallback.filter(F.action == "done"))
    router.message.register(ticket_add_message, StateFilter(TicketFlow.adding))
    return router
