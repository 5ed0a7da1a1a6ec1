"""Composition root: builds storage, services, the dispatcher and the bot from settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.config import Settings
from bot.domain.clock import Clock, SystemClock
from bot.domain.form import FormSchema
from bot.domain.sla import SlaPolicy
from bot.forms.loader import load_form
from bot.jobs.scheduler import build_privacy_service, build_survey_service
from bot.locales.catalog import Catalogs
from bot.ops.updates import install_update_metrics
from bot.services.analytics.causes import RootCauses, load_causes
from bot.services.customers import CustomerService
from bot.services.knowledge import KnowledgeService
from bot.services.outbox import Outbox
from bot.services.routing import Routing, load_routing
from bot.services.tickets import TicketService
from bot.telegram import errors, stale_buttons
from bot.telegram.customer import fallback, faq, form, knowledge, person, start, survey, tickets
from bot.telegram.customer import privacy as customer_privacy
from bot.telegram.customer.form_flow import FormEngine
from bot.telegram.fsm_storage import BatchWritesMiddleware, ChatIsolation, DatabaseStorage
from bot.telegram.i18n import CatalogI18n
from bot.telegram.inflight import InFlightUpdates
from bot.telegram.middlewares import CustomerContextMiddleware, PrivateChatsOnly
from bot.telegram.response_types import PinResponseTypes
from bot.telegram.staff.install import StaffDesk, install_staff_desk
from bot.telegram.staff.stats import RootCauseFlow, StatsDesk, build_stats_desk
from bot.telegram.staff.stats import build_group_router as build_stats_router
from bot.telegram.staff.stats import build_private_router as build_supervisor_router
from bot.telegram.staff.templates import Template, load_templates
from knowledge_base import KnowledgeBase
from knowledge_base.base import DEFAULT_ANSWER_THRESHOLD, DEFAULT_SUGGEST_THRESHOLD
from storage.customer_cache import CustomerCache
from storage.db import create_engine
from storage.fsm_store import fsm_store_for
from storage.instance_lock import InstanceLock
from storage.unit_of_work import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FSM_CACHE_SIZE = 10_000
CUSTOMER_COMMANDS = (
    "start",
    "complaint",
    "tickets",
    "faq",
    "language",
    "cancel",
    "help",
    "privacy",
    "mydata",
    "deletemydata",
)
STAFF_MENU = (
    "take",
    "assign",
    "status",
    "priority",
    "resolve",
    "close",
    "reopen",
    "note",
    "templates",
    "t",
    "ban",
    "unban",
    "away",
    "back",
    "kb_gaps",
    "kb_reload",
    "erase",
    "stats",
    "export",
)


@dataclass
class App:
    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    database: Database
    catalogs: Catalogs
    i18n: CatalogI18n
    clock: Clock
    customers: CustomerService
    tickets: TicketService
    form_schema: FormSchema
    in_flight: InFlightUpdates
    staff: StaffDesk | None = None
    knowledge: KnowledgeService | None = None
    stats: StatsDesk | None = None
    instance_lock: InstanceLock | None = None

    async def claim_instance(self) -> None:
        """On PostgreSQL, make sure the instances running fit this one's mode: none beside the
        only instance, no only instance beside one of several (raises AnotherInstanceRunning;
        storage/instance_lock.py). Nothing to do on SQLite."""
        if self.instance_lock is not None:
            await self.instance_lock.acquire()

    async def close(self) -> None:
        if self.staff is not None:
            await self.staff.stop()
        if self.stats is not None:
            await self.stats.analytics.close()  # stops the report worker process too
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        if self.instance_lock is not None:
            await self.instance_lock.release()
        await self.database.dispose()


def knowledge_base_folder(settings: Settings) -> Path:
    """The FAQ folder; a relative one not found from here is taken from the project root."""
    folder = settings.knowledge_base_dir
    if not folder.is_absolute() and not folder.exists():
        folder = PROJECT_ROOT / folder
    return folder


def load_knowledge_base(settings: Settings) -> KnowledgeBase:
    """Load every FAQ file; any broken file stops the start (KnowledgeBaseError lists all)."""
    answer, suggest = settings.kb_answer_threshold, settings.kb_suggest_threshold
    return KnowledgeBase.from_dir(
        knowledge_base_folder(settings),
        default_locale=settings.default_locale,
        answer_threshold=DEFAULT_ANSWER_THRESHOLD if answer is None else answer,
        suggest_threshold=DEFAULT_SUGGEST_THRESHOLD if suggest is None else suggest,
    )


@dataclass(frozen=True)
class Assets:
    """What the app reads from files at the start and never changes: the texts, the complaint
    form, the FAQ (/kb_reload swaps the FAQ inside the knowledge service, not here), the
    staff's canned replies, the root causes of complaints and the routing rules."""

    catalogs: Catalogs
    form_schema: FormSchema
    knowledge_base: KnowledgeBase
    templates: Mapping[str, Template]
    causes: RootCauses
    routing: Routing


def load_assets(settings: Settings) -> Assets:
    return Assets(
        catalogs=Catalogs(default_locale=settings.default_locale),
        form_schema=load_form(settings.complaint_form_file),
        knowledge_base=load_knowledge_base(settings),
        templates=load_templates(settings.templates_dir),
        causes=load_causes(settings.causes_file),
        routing=load_routing(settings.routing_file),
    )


def build_sla_policy(settings: Settings) -> SlaPolicy:
    return SlaPolicy.from_config(
        targets=settings.sla_target_hours,
        business_hours=settings.business_hours,
        weekdays=settings.business_days,
        holidays=settings.holidays,
        timezone=settings.timezone,
        business_time_only=settings.sla_business_time_only,
        warn_fraction=settings.sla_warn_fraction,
    )


def _fsm_backends(
    settings: Settings, database: Database, clock: Clock
) -> tuple[BaseStorage, BaseEventIsolation]:
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(
            settings.redis_url,
            key_builder=DefaultKeyBuilder(prefix=settings.redis_prefix, with_destiny=True),
        )
        return storage, RedisEventIsolation(storage.redis)
    cache_size = FSM_CACHE_SIZE if settings.single_instance_mode else 0
    return (
        DatabaseStorage(fsm_store_for(database), clock, cache_size=cache_size),
        ChatIsolation(),
    )


def build_customer_router(
    customers: CustomerService, i18n: CatalogI18n, staff: StaffDesk
) -> Router:
    """Everything in private chats: the customer is registered and their language chosen
    (then the desk's checks run) before any handler; the desk's handlers come first."""
    customer = Router(name="customer")
    private_only = PrivateChatsOnly()
    context = CustomerContextMiddleware(customers, i18n)
    for observer in (customer.message, customer.callback_query, customer.edited_message):
        observer.outer_middleware(private_only)
        observer.outer_middleware(context)
        observer.outer_middleware(staff.customer_middleware)
    customer.include_routers(
        staff.private_router,
        person.build_router(),
        start.build_router(),
        tickets.build_router(),
        form.build_router(),
        survey.build_router(),
        faq.build_router(),
        knowledge.build_router(),
        fallback.build_router(),
    )
    return customer


def build_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = AiohttpSession()
        if settings.telegram_api_url:
            session.api = TelegramAPIServer.from_base(settings.telegram_api_url)
    session.middleware(PinResponseTypes())
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    session: BaseSession | None = None,
    database: Database | None = None,
    assets: Assets | None = None,
) -> App:
    clock = clock or SystemClock()
    database = database or Database(create_engine(settings.database_url))
    assets = assets or load_assets(settings)
    catalogs = assets.catalogs
    i18n = CatalogI18n(catalogs)
    schema = assets.form_schema
    zone = ZoneInfo(settings.timezone)
    customers = CustomerService(
        database,
        clock,
        default_locale=settings.default_locale,
        cache=CustomerCache() if settings.single_instance_mode else None,
    )
    sla = build_sla_policy(settings)
    ticket_service = TicketService(
        database,
        clock,
        sla,
        reopen_window=timedelta(days=settings.reopen_window_days),
        burst=timedelta(minutes=settings.relay_burst_minutes),
    )
    knowledge_service = KnowledgeService(
        assets.knowledge_base, database, clock, source=knowledge_base_folder(settings)
    )
    privacy = build_privacy_service(settings, database, clock, sla, catalogs)
    storage, isolation = _fsm_backends(settings, database, clock)
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation)
    in_flight = InFlightUpdates()
    dispatcher.update.outer_middleware(in_flight)
    if isinstance(storage, DatabaseStorage):
        dispatcher.update.outer_middleware(BatchWritesMiddleware(storage))
    dispatcher.workflow_data.update(
        settings=settings,
        clock=clock,
        customers=customers,
        tickets=ticket_service,
        form_engine=FormEngine(schema, clock, zone),
        business_zone=zone,
        category_titles={
            locale: {c.id: c.title(locale) for c in schema.categories}
            for locale in catalogs.locales
        },
        staff_chat_id=settings.staff_chat_id,
        i18n=i18n,
        knowledge=knowledge_service,
        surveys=build_survey_service(settings, database, clock, sla, catalogs),
        privacy=privacy,
    )
    dispatcher.errors.register(errors.on_error)
    install_update_metrics(dispatcher)
    stats = build_stats_desk(
        settings=settings,
        database=database,
        clock=clock,
        catalogs=catalogs,
        schema=schema,
        sla=sla,
        causes=assets.causes,
    )
    dispatcher.workflow_data["root_causes"] = RootCauseFlow(stats)
    bot = build_bot(settings, session)
    staff = install_staff_desk(
        bot=bot,
        settings=settings,
        database=database,
        clock=clock,
        catalogs=catalogs,
        i18n=i18n,
        tickets=ticket_service,
        schema=schema,
        templates=assets.templates,
        routing=assets.routing,
        knowledge=knowledge_service,
        privacy=privacy,
        extra_routers=[build_stats_router(stats)],
    )
    dispatcher.workflow_data["outbox"] = Outbox(database, clock, staff.delivery.notify)
    if staff.incidents is not None:
        # Incident alerts' buttons in supervisors' private chats, before the customer router.
        dispatcher.include_router(staff.incidents.supervisor_router)
    # Supervisors' /stats in private comes before the customer side, which would take it.
    dispatcher.include_router(build_supervisor_router(stats, i18n))
    # Private chats first: they carry most of the traffic and skip the staff router entirely.
    policy = customer_privacy.PrivacyPolicy(
        catalogs,
        path=settings.privacy_policy_file,
        company=settings.company_name,
        retention_days=settings.retention_days,
    )
    # Privacy rights hold for every customer (banned ones too), before anything is relayed.
    dispatcher.include_router(customer_privacy.build_router(policy, customers, i18n))
    dispatcher.include_router(build_customer_router(customers, i18n, staff))
    if staff.staff_router is not None:
        dispatcher.include_router(staff.staff_router)
    dispatcher.include_router(stale_buttons.build_router())
    return App(
        settings=settings,
        bot=bot,
        dispatcher=dispatcher,
        database=database,
        catalogs=catalogs,
        i18n=i18n,
        clock=clock,
        customers=customers,
        tickets=ticket_service,
        form_schema=schema,
        in_flight=in_flight,
        staff=staff,
        knowledge=knowledge_service,
        instance_lock=InstanceLock(database.engine, only=settings.single_instance_mode),
        stats=stats,
    )


async def register_commands(app: App) -> None:
    """The command menus in each language (Telegram picks one by the user's language): the
    customers' in private chats and, with a staff group, the agents' in that group."""
    for locale in app.catalogs.locales:
        commands = [
            BotCommand(command=name, description=app.catalogs.plain(f"command.{name}", locale))
            for name in CUSTOMER_COMMANDS
        ]
        language = None if locale == app.settings.default_locale else locale
        await app.bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=language
        )
        if app.settings.staff_chat_id is not None:
            staff = [
                BotCommand(
                    command=name, description=app.catalogs.plain(f"desk.command.{name}", locale)
                )
                for name in STAFF_MENU
            ]
            await app.bot.set_my_commands(
                staff,
                scope=BotCommandScopeChat(chat_id=app.settings.staff_chat_id),
                language_code=language,
            )
