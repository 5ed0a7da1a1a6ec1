"""Wiring the staff desk into the app: services, routers, the listener and the delivery worker."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, Router

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.form import FormSchema
from bot.locales.catalog import Catalogs
from bot.services.desk import DeskConfig, DeskService
from bot.services.desk.topics import TopicRecords
from bot.services.kb_desk import KnowledgeDesk
from bot.services.knowledge import KnowledgeService
from bot.services.outbox import Buttons, Notify
from bot.services.privacy import PrivacyService
from bot.services.routing import Routing
from bot.services.tickets import TicketService
from bot.telegram.delivery import DeliveryWorker, Pacer, stop_worker
from bot.telegram.filters import InChat
from bot.telegram.i18n import CatalogI18n
from bot.telegram.pacing import RedisPacer
from bot.telegram.staff.access import DeskLanguage, StaffDirectory, StaffGate
from bot.telegram.staff.callbacks import ConfirmCallback
from bot.telegram.staff.card import CardStyle
from bot.telegram.staff.card_actions import build_card_router
from bot.telegram.staff.compose import compose_desk
from bot.telegram.staff.erase import build_router as build_erase_router
from bot.telegram.staff.group import StaffContext, build_group_router
from bot.telegram.staff.incidents import IncidentWiring, install_incidents
from bot.telegram.staff.kb import build_router as build_kb_router
from bot.telegram.staff.listener import DeskListener
from bot.telegram.staff.locks import LocalLocks, RedisLocks, TicketLocks
from bot.telegram.staff.private import CustomerDeskMiddleware, build_private_router
from bot.telegram.staff.templates import Template
from bot.telegram.staff.threads import StaffThreads
from storage.unit_of_work import Database


class ConfirmButtons:
    def __init__(self, catalogs: Catalogs) -> None:
        self._catalogs = catalogs

    def resolution_feedback(self, ticket_id: int, locale: str) -> Buttons:
        return [
            [
                {
                    "text": self._catalogs.plain("desk.confirm.yes", locale),
                    "callback_data": ConfirmCallback(ticket_id=ticket_id, solved=True).pack(),
                },
                {
                    "text": self._catalogs.plain("desk.confirm.no", locale),
                    "callback_data": ConfirmCallback(ticket_id=ticket_id, solved=False).pack(),
                },
            ]
        ]


@dataclass
class StaffDesk:
    desk: DeskService
    delivery: DeliveryWorker
    threads: StaffThreads | None
    customer_middleware: CustomerDeskMiddleware
    locks: TicketLocks
    private_router: Router
    """The desk's part of the private chat: the customer router includes it first."""
    staff_router: Router | None
    """Everything in the staff group (None without one); only staff get past its gate."""
    incidents: IncidentWiring | None = None
    _task: asyncio.Task[None] | None = None
    _stop: asyncio.Event | None = None

    @property
    def delivering(self) -> bool:
        """The delivery worker is running (for the health check)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.delivery.run_forever(self._stop))

    async def stop(self) -> None:
        if self._task is not None and self._stop is not None:
            await stop_worker(self._task, self._stop)
        await self.delivery.pacer.close()
        if isinstance(self.locks, RedisLocks):
            await self.locks.close()


def _category_titles(schema: FormSchema, locale: str, catalogs: Catalogs) -> dict[str, str]:
    titles = {c.id: c.title(locale) for c in schema.categories}
    titles.setdefault("question", catalogs.plain("desk.category.question", locale))
    return titles


def _field_titles(schema: FormSchema, locale: str) -> dict[str, str]:
    return {f.id: f.title(locale) for c in schema.categories for f in c.fields}


def install_staff_desk(
    *,
    bot: Bot,
    settings: Settings,
    database: Database,
    clock: Clock,
    catalogs: Catalogs,
    i18n: CatalogI18n,
    tickets: TicketService,
    schema: FormSchema,
    templates: Mapping[str, Template],
    routing: Routing,
    knowledge: KnowledgeService | None = None,
    privacy: PrivacyService | None = None,
    extra_routers: Sequence[Router] = (),
) -> StaffDesk:
    """Build the desk, its routers (for the caller to include) and register its listener."""
    locale = settings.default_locale
    group_limit = settings.staff_group_messages_per_minute
    interval = timedelta(seconds=settings.private_chat_min_interval_seconds)
    # With REDIS_URL several instances may run: they share the pace of every chat.
    pacer = (
        RedisPacer.from_url(
            settings.redis_url,
            prefix=settings.redis_prefix,
            group_limit=group_limit,
            private_interval=interval,
            overall_limit=settings.bot_messages_per_second,
        )
        if settings.redis_url
        else Pacer(
            group_limit=group_limit,
            private_interval=interval,
            overall_limit=settings.bot_messages_per_second,
        )
    )
    # Made first: the use cases ring it after each commit, the worker (made last, as it needs
    # the topics, which need the use cases) waits on it.
    wake = asyncio.Event()
    notify: Notify = wake.set
    desk = compose_desk(
        database=database,
        clock=clock,
        sla=tickets.sla,
        catalogs=catalogs,
        config=DeskConfig(
            staff_chat_id=settings.staff_chat_id,
            staff_locale=locale,
            show_agent_names=settings.show_agent_names,
            company_name=settings.company_name,
            reopen_window=timedelta(days=settings.reopen_window_days),
        ),
        buttons=ConfirmButtons(catalogs),
        routing=routing,
        notify=notify,
    )
    locks: TicketLocks = (
        RedisLocks(settings.redis_url, prefix=settings.redis_prefix)
        if settings.redis_url
        else LocalLocks()
    )
    directory = (
        None
        if settings.staff_chat_id is None
        else StaffDirectory(
            bot,
            clock,
            chat_id=settings.staff_chat_id,
            extra_ids=settings.staff_user_ids,
            ttl=timedelta(seconds=settings.staff_admin_cache_seconds),
        )
    )
    incidents = install_incidents(
        bot=bot,
        settings=settings,
        database=database,
        clock=clock,
        catalogs=catalogs,
        i18n=i18n,
        desk=desk,
        category_titles=_category_titles(schema, locale, catalogs),
        directory=directory,
        notify=notify,
    )
    threads: StaffThreads | None = None
    staff_router: Router | None = None
    if settings.staff_chat_id is not None:
        assert directory is not None
        style = CardStyle(
            catalogs,
            locale,
            ZoneInfo(settings.timezone),
            _category_titles(schema, locale, catalogs),
            _field_titles(schema, locale),
        )
        kb_desk = (
            None
            if knowledge is None
            else KnowledgeDesk(
                database,
                clock,
                knowledge,
                catalogs,
                tickets.sla,
                staff_chat_id=settings.staff_chat_id,
                staff_locale=locale,
                notify=notify,
            )
        )
        threads = StaffThreads(
            bot,
            clock,
            desk.cards,
            TopicRecords(database, clock),
            style,
            locks,
            pacer,
            chat_id=settings.staff_chat_id,
            knowledge=kb_desk,
            incidents=incidents.service.lifecycle,
        )
        ctx = StaffContext(desk, threads, style, templates)
        routers = [build_group_router(ctx), build_card_router(ctx)]
        if kb_desk is not None:
            # Before the group router: its catch-all handlers would swallow these commands.
            routers.insert(0, build_kb_router(kb_desk, directory))
        if privacy is not None:
            routers.insert(0, build_erase_router(desk, privacy, directory))
        assert incidents.group_router is not None
        routers.insert(0, incidents.group_router)
        # Commands of other features (statistics), before the group's catch-all handlers.
        routers[0:0] = list(extra_routers)
        language, gate = DeskLanguage(i18n, locale), StaffGate(directory, i18n)
        for router in routers:
            for observer in (router.message, router.callback_query, router.edited_message):
                observer.middleware(language)
                observer.middleware(gate)
        staff_router = Router(name="staff")
        for observer in (
            staff_router.message,
            staff_router.callback_query,
            staff_router.edited_message,
        ):
            observer.filter(InChat(settings.staff_chat_id))
        staff_router.include_routers(*routers)
        listener = DeskListener(desk.route, desk.relay_customer_message, notify)
        tickets.listeners.add(listener)
        tickets.listeners.add_in_transaction(listener)
        tickets.listeners.add_on_registration(listener)
    # After the desk's listener: the ticket's topic exists when detection links it.
    tickets.listeners.add(incidents.listener)
    delivery = DeliveryWorker(
        bot,
        database,
        clock,
        catalogs,
        staff_chat_id=settings.staff_chat_id,
        staff_locale=locale,
        pacer=pacer,
        threads=threads,
        wake=wake,
        only_claimer=settings.single_instance_mode,
    )
    return StaffDesk(
        desk,
        delivery,
        threads,
        CustomerDeskMiddleware(desk.ban_notice_due, tickets),
        locks,
        build_private_router(desk),
        staff_router,
        incidents=incidents,
    )
