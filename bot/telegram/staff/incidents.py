"""Mass incidents in the staff group: alerts' buttons, /incident, /incidents, /link, /unlink,
and in an incident's own topic /update, /public, /resolve and the card's status buttons."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.incidents import (
    LINK_THRESHOLD,
    SUGGEST_THRESHOLD,
    IncidentStatus,
    SpikePolicy,
    format_incident_number,
    parse_incident_number,
)
from bot.domain.tickets import ResolutionType
from bot.locales.catalog import Catalogs
from bot.services.desk import AgentRef, DeskError, DeskService, TicketView
from bot.services.incidents import IncidentConfig, IncidentService, IncidentView
from bot.services.outbox import Button, Buttons, Notify
from bot.telegram.filters import PrivateChat
from bot.telegram.i18n import CatalogI18n, t, t_count, t_plain
from bot.telegram.staff.access import StaffDirectory, agent_of
from bot.telegram.staff.group import ticket_of
from bot.telegram.text_limits import TEXT_LIMIT, shorten, utf16_len
from storage.unit_of_work import Database

log = logging.getLogger(__name__)
MAX_TOPIC_NAME = 128
CARD_TICKETS = 30
ALERT_LIST = 20
PUBLIC_LENGTH = 1500


class IncidentCallback(CallbackData, prefix="inc"):
    """An alert's or an incident card's button: `action` on alert or incident `id`."""

    action: str  # declare, dismiss, show (alert); status (incident)
    id: int
    value: str = ""


class AlertKeyboard:
    def __init__(self, catalogs: Catalogs) -> None:
        self._catalogs = catalogs

    def alert(self, alert_id: int, locale: str) -> Buttons:
        def make(key: str, action: str) -> Button:
            return {
                "text": self._catalogs.plain(key, locale),
                "callback_data": IncidentCallback(action=action, id=alert_id).pack(),
            }

        return [
            [make("incidents.button.declare", "declare")],
            [
                make("incidents.button.dismiss", "dismiss"),
                make("incidents.button.show", "show"),
            ],
        ]


def fit(lines: list[str]) -> str:
    """As many whole lines (HTML) as fit into one message."""
    kept: list[str] = []
    size = 0
    for line in lines:
        size += utf16_len(line) + 1
        if size > TEXT_LIMIT:
            break
        kept.append(line)
    return "\n".join(kept)


def _since(moment: datetime | None, now: datetime) -> int:
    return max(0, int((now - moment).total_seconds() // 60)) if moment else 0


class IncidentTopics:
    """Each incident's topic and its card (kept current after every change)."""

    def __init__(
        self,
        bot: Bot,
        service: IncidentService,
        catalogs: Catalogs,
        clock: Clock,
        *,
        chat_id: int,
        locale: str,
    ) -> None:
        self._bot = bot
        self._service = service
        self._catalogs = catalogs
        self._clock = clock
        self.chat_id = chat_id
        self.locale = locale
        self._topics: set[int] = set()

    def text(self, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, self.locale, **params)

    def plain(self, key: str, /, **params: Any) -> str:
        return self._catalogs.plain(key, self.locale, **params)

    async def is_incident_topic(self, thread_id: int) -> bool:
        """Known incident topics are remembered; any other topic is looked up (only commands
        ask, and another instance may have opened the topic)."""
        if thread_id in self._topics:
            return True
        if await self._service.by_topic(thread_id) is None:
            return False
        self._topics.add(thread_id)
        return True

    def render(self, view: IncidentView) -> str:
        incident = view.incident
        now = self._clock.now()
        detected = incident.first_ticket_at or incident.declared_at
        by_status: dict[str, list[str]] = {}
        for linked in view.tickets:
            by_status.setdefault(linked.status, []).append(linked.number)
        lines = [
            self.text("incidents.card.title", number=incident.number, title=incident.title),
            self.text(
                "incidents.card.status",
                status=self.plain(f"incidents.status.{incident.status}"),
                minutes=_since(detected, now),
            ),
            self.text("incidents.card.public", text=shorten(incident.public_text, PUBLIC_LENGTH)),
            self.text(
                "incidents.card.linked",
                tickets=self._catalogs.count("count.tickets", self.locale, len(view.tickets)),
            ),
        ]
        for status, numbers in sorted(by_status.items()):
            shown = ", ".join(numbers[:CARD_TICKETS])
            more = len(numbers) - CARD_TICKETS
            lines.append(
                self.text(
                    "incidents.card.status_line",
                    status=self.plain(f"desk.status.{status}"),
                    count=len(numbers),
                    numbers=shown + (f" +{more}" if more > 0 else ""),
                )
            )
        if incident.resolution_text:
            lines.append(
                self.text(
                    "incidents.card.resolution",
                    decision=self.plain(f"desk.resolution.{incident.resolution_type}"),
                    text=incident.resolution_text,
                )
            )
        return fit(lines)

    def keyboard(self, view: IncidentView) -> InlineKeyboardMarkup | None:
        incident = view.incident
        assert incident.id is not None
        if incident.status not in IncidentStatus.OPEN:
            return None
        buttons = [
            InlineKeyboardButton(
                text=self.plain(f"incidents.button.{status}"),
                callback_data=IncidentCallback(
                    action="status", id=incident.id, value=status
                ).pack(),
            )
            for status in (IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)
            if IncidentStatus.ORDER.index(status) > IncidentStatus.ORDER.index(incident.status)
        ]
        return InlineKeyboardMarkup(inline_keyboard=[buttons])

    async def open(self, incident_id: int) -> int | None:
        """Create the incident's topic (a plain message without topics) and post its card."""
        view = await self._service.view(incident_id)
        incident = view.incident
        name = self.plain("incidents.topic.name", number=incident.number, title=incident.title)
        name = " ".join(name.split())[:MAX_TOPIC_NAME]
        topic: int | None = None
        try:
            created = await self._bot.create_forum_topic(self.chat_id, name)
            topic = created.message_thread_id
        except TelegramBadRequest as error:
            log.warning("no topic for incident %s: %s", incident.number, error.message)
        card = await self._bot.send_message(
            self.chat_id,
            self.render(view),
            message_thread_id=topic,
            reply_markup=self.keyboard(view),
        )
        await self._service.set_topic(incident_id, topic_id=topic, card_message_id=card.message_id)
        if topic is not None:
            self._topics.add(topic)
        return topic

    async def refresh(self, incident_id: int) -> None:
        view = await self._service.view(incident_id)
        if view.incident.card_message_id is None:
            return
        try:
            await self._bot.edit_message_text(
                self.render(view),
                chat_id=self.chat_id,
                message_id=view.incident.card_message_id,
                reply_markup=self.keyboard(view),
            )
        except TelegramBadRequest as error:
            if "not modified" not in error.message.lower():
                log.warning("card of incident %s not updated: %s", incident_id, error.message)


class InIncidentTopic(Filter):
    def __init__(self, topics: IncidentTopics) -> None:
        self._topics = topics

    async def __call__(self, message: Message) -> bool:
        thread = message.message_thread_id
        return bool(
            message.is_topic_message and thread and await self._topics.is_incident_topic(thread)
        )


@dataclass
class IncidentDesk:
    service: IncidentService
    topics: IncidentTopics | None
    desk: DeskService

    async def open_topic(self, incident_id: int) -> None:
        if self.topics is not None:
            await self.topics.open(incident_id)

    async def refresh(self, incident_id: int) -> None:
        if self.topics is not None:
            await self.topics.refresh(incident_id)

    async def incident_of(self, message: Message) -> int | None:
        if not message.message_thread_id:
            return None
        incident = await self.service.by_topic(message.message_thread_id)
        return incident.id if incident else None


def _explain(error: DeskError) -> str:
    return t(error.key, **error.params)


def build_group_router(ctx: IncidentDesk) -> Router:
    """Goes before the desk's group router (its catch-all would swallow these commands)."""
    router = Router(name="incidents")
    service, topics = ctx.service, ctx.topics
    assert topics is not None
    in_incident = InIncidentTopic(topics)

    @router.message(Command("incident"))
    async def declare(message: Message, command: CommandObject, agent: AgentRef) -> None:
        title = (command.args or "").strip()
        if not title:
            await message.reply(t("incidents.usage.incident"))
            return
        ticket = await ticket_of(message, ctx.desk)
        try:
            incident = await service.declare(
                agent=agent, title=title, ticket_id=ticket.id if ticket else None
            )
        except DeskError as error:
            await message.reply(_explain(error))
            return
        assert incident.id is not None
        await ctx.open_topic(incident.id)
        await message.reply(t("incidents.declared", number=incident.number, title=incident.title))

    @router.message(Command("incidents"))
    async def list_open(message: Message) -> None:
        views = await service.open_views()
        if not views:
            await message.reply(t("incidents.list.empty"))
            return
        lines = [t("incidents.list.title", count=len(views))]
        for view in views:
            lines.append(
                t(
                    "incidents.list.line",
                    number=view.incident.number,
                    title=view.incident.title,
                    status=t_plain(f"incidents.status.{view.incident.status}"),
                    tickets=t_count("count.tickets", len(view.tickets)),
                )
            )
        await message.reply(fit(lines))

    @router.message(Command("link"))
    async def link(message: Message, command: CommandObject, agent: AgentRef) -> None:
        value = parse_incident_number(command.args or "")
        if value is None:
            await message.reply(t("incidents.usage.link"))
            return
        ticket = await _ticket_or_reply(message, ctx)
        if ticket is None or ticket.id is None:
            return
        try:
            incident = await service.link(format_incident_number(value), ticket.id, agent)
        except DeskError as error:
            await message.reply(_explain(error))
            return
        assert incident.id is not None
        await ctx.refresh(incident.id)
        await message.reply(t("incidents.linked", number=ticket.number, incident=incident.number))

    @router.message(Command("unlink"))
    async def unlink(message: Message) -> None:
        ticket = await _ticket_or_reply(message, ctx)
        if ticket is None or ticket.id is None:
            return
        try:
            incident, _ticket = await service.unlink(ticket.id)
        except DeskError as error:
            await message.reply(_explain(error))
            return
        assert incident.id is not None
        await ctx.refresh(incident.id)
        await message.reply(t("incidents.unlinked", number=ticket.number, incident=incident.number))

    @router.message(Command("update"), in_incident)
    async def update(message: Message, command: CommandObject, agent: AgentRef) -> None:
        incident_id = await ctx.incident_of(message)
        text = (command.args or "").strip()
        if incident_id is None or not text:
            await message.reply(t("incidents.usage.update"))
            return
        try:
            count = await service.post_update(incident_id, text, agent)
        except DeskError as error:
            await message.reply(_explain(error))
            return
        await message.reply(
            t("incidents.update_sent", customers=t_count("count.to_customers", count))
        )

    @router.message(Command("public"), in_incident)
    async def public(message: Message, command: CommandObject) -> None:
        incident_id = await ctx.incident_of(message)
        text = (command.args or "").strip()
        if incident_id is None or not text:
            await message.reply(t("incidents.usage.public"))
            return
        try:
            await service.set_public_text(incident_id, text)
        except DeskError as error:
            await message.reply(_explain(error))
            return
        await ctx.refresh(incident_id)
        await message.reply(t("incidents.public_set"))

    @router.message(Command("resolve"), in_incident)
    async def resolve(message: Message, command: CommandObject, agent: AgentRef) -> None:
        incident_id = await ctx.incident_of(message)
        kind, _, text = (command.args or "").strip().partition(" ")
        try:
            resolution = ResolutionType(kind.lower())
        except ValueError:
            resolution = None
        if incident_id is None or resolution is None or not text.strip():
            await message.reply(t("incidents.usage.resolve"))
            return
        try:
            result = await service.resolve(
                incident_id, agent, resolution=resolution, text=text.strip()
            )
        except DeskError as error:
            await message.reply(_explain(error))
            return
        await ctx.refresh(incident_id)
        await message.reply(
            t(
                "incidents.resolved",
                number=result.incident.number,
                resolved=result.resolved,
                left=result.left_alone,
            )
        )

    @router.message(Command("update", "public"))
    async def outside_incident(message: Message, command: CommandObject) -> None:
        await message.reply(t(f"incidents.usage.{command.command}"))

    @router.callback_query(IncidentCallback.filter())
    async def button(
        query: CallbackQuery, callback_data: IncidentCallback, agent: AgentRef
    ) -> None:
        await on_button(query, callback_data, agent, ctx)

    return router


async def _ticket_or_reply(message: Message, ctx: IncidentDesk) -> TicketView | None:
    ticket = await ticket_of(message, ctx.desk)
    if ticket is None:
        await message.reply(t("incidents.error.not_in_ticket"))
    return ticket


async def on_button(
    query: CallbackQuery, data: IncidentCallback, agent: AgentRef, ctx: IncidentDesk
) -> None:
    service = ctx.service
    try:
        if data.action == "declare":
            incident = await service.declare(agent=agent, alert_id=data.id)
            assert incident.id is not None
            await ctx.open_topic(incident.id)
            await query.answer(t_plain("incidents.declared_plain", number=incident.number))
            if isinstance(query.message, Message):
                await query.message.answer(
                    t("incidents.declared", number=incident.number, title=incident.title)
                )
            return
        if data.action == "dismiss":
            await service.dismiss(data.id, agent)
            await query.answer(t_plain("incidents.dismissed"))
            if isinstance(query.message, Message):
                await query.message.answer(t("incidents.dismissed_by", agent=agent.name))
            return
        if data.action == "show":
            await query.answer()
            _alert, tickets = await service.alert_tickets(data.id)
            lines = [t("incidents.show.title", count=len(tickets))]
            lines += [
                t(
                    "incidents.show.line",
                    number=ticket.number,
                    status=t_plain(f"desk.status.{ticket.status}"),
                    text=shorten(" ".join((ticket.description or "").split()), 80),
                )
                for ticket in tickets[:ALERT_LIST]
            ]
            if isinstance(query.message, Message):
                await query.message.answer(fit(lines))
            return
        if data.action == "status":
            await service.set_status(data.id, data.value)
            await ctx.refresh(data.id)
            await query.answer(t_plain("desk.done"))
            return
    except DeskError as error:
        await query.answer(t_plain(error.key, **error.params), show_alert=True)
        return
    await query.answer()


def build_supervisor_router(
    ctx: IncidentDesk,
    directory: StaffDirectory | None,
    supervisor_ids: list[int],
    i18n: CatalogI18n,
    locale: str,
) -> Router:
    """Alert buttons pressed in a supervisor's private chat (the alert is sent there too);
    the dispatcher includes it before the customer router."""
    router = Router(name="incident_supervisors")
    router.callback_query.filter(PrivateChat())
    supervisors = frozenset(supervisor_ids)

    @router.callback_query(IncidentCallback.filter())
    async def button(query: CallbackQuery, callback_data: IncidentCallback) -> None:
        user = query.from_user
        with i18n.context(), i18n.use_locale(locale):
            allowed = user.id in supervisors or (
                directory is not None and await directory.is_staff(user.id)
            )
            if not allowed:
                await query.answer(i18n.plain("desk.refused"), show_alert=True)
                return
            await on_button(query, callback_data, agent_of(user), ctx)

    return router


class IncidentListener:
    """Detection on every new ticket; the incident's card follows an automatic link."""

    def __init__(self, service: IncidentService, topics: IncidentTopics | None) -> None:
        self._service = service
        self._topics = topics

    async def ticket_opened(self, ticket_id: int) -> None:
        detection = await self._service.observe(ticket_id)
        if detection is not None and detection.linked_to is not None and self._topics:
            await self._topics.refresh(detection.linked_to)

    async def customer_message(self, ticket_id: int, message_id: int) -> None:
        return None


@dataclass
class IncidentWiring:
    service: IncidentService
    listener: IncidentListener
    topics: IncidentTopics | None
    group_router: Router | None
    supervisor_router: Router


def install_incidents(
    *,
    bot: Bot,
    settings: Settings,
    database: Database,
    clock: Clock,
    catalogs: Catalogs,
    i18n: CatalogI18n,
    desk: DeskService,
    category_titles: dict[str, str],
    directory: StaffDirectory | None,
    notify: Notify,
) -> IncidentWiring:
    """Build the incident service, its routers and its ticket listener (the caller includes
    the group router before the desk's and the supervisor router before the customer's)."""
    locale = settings.default_locale
    policy = SpikePolicy(
        window=timedelta(minutes=settings.incident_window_minutes),
        min_tickets=settings.incident_min_tickets,
    )
    config = IncidentConfig(
        staff_chat_id=settings.staff_chat_id,
        staff_locale=locale,
        supervisor_ids=tuple(settings.supervisor_ids),
        policy=policy,
        link_threshold=settings.incident_link_threshold or LINK_THRESHOLD,
        suggest_threshold=settings.incident_suggest_threshold or SUGGEST_THRESHOLD,
    )
    service = IncidentService(
        database,
        clock,
        catalogs,
        config,
        desk,
        AlertKeyboard(catalogs),
        category_titles=category_titles,
        notify=notify,
    )
    topics: IncidentTopics | None = None
    group_router: Router | None = None
    if settings.staff_chat_id is not None:
        topics = IncidentTopics(
            bot, service, catalogs, clock, chat_id=settings.staff_chat_id, locale=locale
        )
        group_router = build_group_router(IncidentDesk(service, topics, desk))
    supervisor_router = build_supervisor_router(
        IncidentDesk(service, topics, desk),
        directory,
        list(settings.supervisor_ids),
        i18n,
        locale,
    )
    return IncidentWiring(
        service, IncidentListener(service, topics), topics, group_router, supervisor_router
    )
