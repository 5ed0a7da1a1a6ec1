"""Mass incidents in the staff group, wired: the incident service, its routers (commands in
`incident_commands` and `incident_topic_commands`, buttons in `incident_alerts`, topics and
cards in `incident_topics`) and detection on every new ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot, Router

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.incidents import LINK_THRESHOLD, SUGGEST_THRESHOLD, SpikePolicy
from bot.locales.catalog import Catalogs
from bot.services.desk import DeskService
from bot.services.incidents import (
    IncidentConfig,
    IncidentDetection,
    IncidentService,
    compose_incidents,
)
from bot.services.outbox import Notify
from bot.telegram.i18n import CatalogI18n
from bot.telegram.staff.access import StaffDirectory
from bot.telegram.staff.incident_alerts import AlertKeyboard, build_supervisor_router
from bot.telegram.staff.incident_commands import build_group_router
from bot.telegram.staff.incident_topics import IncidentDesk, IncidentTopics
from storage.unit_of_work import Database


class IncidentListener:
    """Detection on every new ticket; the incident's card follows an automatic link."""

    def __init__(self, detection: IncidentDetection, topics: IncidentTopics | None) -> None:
        self._detection = detection
        self._topics = topics

    async def ticket_opened(self, ticket_id: int) -> None:
        detection = await self._detection.observe(ticket_id)
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
    service = compose_incidents(
        database=database,
        clock=clock,
        catalogs=catalogs,
        config=config,
        resolve_ticket=desk.resolve,
        buttons=AlertKeyboard(catalogs),
        category_titles=category_titles,
        notify=notify,
    )
    topics: IncidentTopics | None = None
    group_router: Router | None = None
    if settings.staff_chat_id is not None:
        topics = IncidentTopics(
            bot, service.lifecycle, catalogs, clock, chat_id=settings.staff_chat_id, locale=locale
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
        service,
        IncidentListener(service.detection, topics),
        topics,
        group_router,
        supervisor_router,
    )
