"""Mass incidents as use cases: detection on every new ticket, alerts, declaring, linking,
updates and resolution fanned out to the linked customers through the outbox.

Messages go through the outbox in the unit of work of their cause: alerts and all-clears
(`text`), the notice to a customer whose new complaint matches an open incident (`text`, sent
at once), updates (`incident_update`, one row per linked customer) and the resolution
(`incident_resolved`, one row per linked open ticket, through the desk's own resolve use case
so surveys follow as for any resolved ticket). The keys make a repeated action send nothing
twice, and rows already written survive a restart: a fan-out interrupted after its commit is
simply delivered later; a resolution interrupted between tickets is finished by the sweep.

The three parts are plain classes given what they need by `compose_incidents`; callers reach
them as `service.detection.observe(...)`, `service.lifecycle.declare(...)`,
`service.fanout.resolve(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.locales.catalog import Catalogs
from bot.services.desk.resolve import Resolve
from bot.services.incidents.common import (
    AlertButtons,
    IncidentConfig,
    IncidentContext,
    no_wakeup,
)
from bot.services.incidents.detection import IncidentDetection
from bot.services.incidents.fanout import IncidentFanout
from bot.services.incidents.lifecycle import IncidentLifecycle
from bot.services.outbox import Notify
from storage.unit_of_work import Database


@dataclass(frozen=True, slots=True)
class IncidentService:
    detection: IncidentDetection
    lifecycle: IncidentLifecycle
    fanout: IncidentFanout

    async def sweep(self) -> int:
        """All-clears for alerts whose cluster calmed down and resolutions left unfinished by
        a restart; returns how many alerts were closed."""
        closed = await self.detection.calm_alerts()
        await self.fanout.finish_resolutions()
        return closed


def compose_incidents(
    *,
    database: Database,
    clock: Clock,
    catalogs: Catalogs,
    config: IncidentConfig,
    resolve_ticket: Resolve,
    buttons: AlertButtons,
    category_titles: Mapping[str, str] | None = None,
    notify: Notify | None = None,
) -> IncidentService:
    context = IncidentContext(
        database, clock, catalogs, config, category_titles or {}, notify or no_wakeup
    )
    return IncidentService(
        detection=IncidentDetection(context, buttons),
        lifecycle=IncidentLifecycle(context),
        fanout=IncidentFanout(context, resolve_ticket),
    )
