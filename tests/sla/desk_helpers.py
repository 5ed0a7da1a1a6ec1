"""A desk with the sweeps and the delivery worker, driven by the frozen clock."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.tickets import TicketStatus
from bot.jobs.scheduler import SweepRunner, TickReport, build_runner
from bot.services.intake import ComplaintForm
from bot.telegram.delivery import DeliveryWorker, Pacer
from storage.models import Ticket
from tests.harness import Desk
from tests.sla.helpers import move
from tests.telegram_fake import TelegramUser


def runner(desk: Desk) -> SweepRunner:
    app = desk.app
    return build_runner(desk.settings, desk.database, desk.clock, app.tickets.sla, app.catalogs)


def worker(desk: Desk) -> DeliveryWorker:
    return DeliveryWorker(
        desk.app.bot,
        desk.database,
        desk.clock,
        desk.app.catalogs,
        staff_chat_id=desk.settings.staff_chat_id,
        staff_locale=desk.settings.default_locale,
        pacer=Pacer(group_limit=0, private_interval=timedelta(0)),
    )


async def deliver(desk: Desk) -> int:
    sent = 0
    delivery = worker(desk)
    while count := await delivery.run_once():
        sent += count
    return sent


async def sweep_and_deliver(desk: Desk) -> TickReport:
    report = await runner(desk).tick()
    await deliver(desk)
    return report


async def customer_id(desk: Desk, user: TelegramUser) -> int:
    async with desk.database.unit_of_work() as uow:
        customer = await uow.customers.by_telegram_id(telegram_id=user.id)
        assert customer is not None and customer.id is not None
        return customer.id


async def resolved_ticket(desk: Desk, user: TelegramUser) -> Ticket:
    """A complaint from `user`, answered and resolved now, with a topic in the staff group."""
    await desk.command(user, "start")
    ticket = await desk.app.tickets.open_complaint(
        customer_id=await customer_id(desk, user),
        form=ComplaintForm(category="delivery", description="Parcel is late", incident_date=None),
    )
    assert ticket.id is not None
    await deliver(desk)  # the request to open a topic: this helper makes the topic itself
    staff_chat = desk.settings.staff_chat_id
    assert staff_chat is not None
    desk.fake.set_forum(staff_chat)
    async with desk.database.unit_of_work() as uow:
        stored = await uow.tickets.get(ticket_id=ticket.id)
        assert stored is not None
        stored.topic_id = ticket.topic_id = desk.fake.create_topic(staff_chat, ticket.number)
        stored.first_response_at = desk.clock.now()
        await uow.tickets.save(ticket=stored)
    await move(
        desk.database,
        desk.clock,
        ticket.id,
        TicketStatus.IN_PROGRESS,
        TicketStatus.RESOLVED,
        sla=desk.app.tickets.sla,
    )
    return ticket
