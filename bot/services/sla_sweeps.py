"""Service-level sweeps over the stored tickets: warnings, breaches, "still working", auto-close.

Every sweep reads only the tickets that need an action now (indexed range queries on stored
due times and marks), marks them in the same transaction that writes their events and outbox
rows, and so is safe to run again at any time: a second run finds nothing left to do. Each
sweep has its own module; this one runs them in order and reports what they did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.locales.catalog import Catalogs
from bot.services.auto_close import AutoCloseSweep
from bot.services.sla_breaches import SlaBreaches
from bot.services.sla_warnings import SlaWarnings
from bot.services.still_working import StillWorkingSweep
from bot.services.sweep_config import SweepConfig
from bot.services.sweep_messages import StaffTexts
from storage.sweep_repository import SlaTargetName
from storage.unit_of_work import Database

TARGETS: tuple[SlaTargetName, ...] = ("first_response", "resolution")


@dataclass
class SlaSweepReport:
    warned: dict[str, int] = field(default_factory=dict)
    breached: dict[str, int] = field(default_factory=dict)
    still_working: int = 0
    auto_closed: int = 0

    @property
    def total(self) -> int:
        return (
            sum(self.warned.values())
            + sum(self.breached.values())
            + self.still_working
            + self.auto_closed
        )


class SlaSweeps:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        sla: SlaPolicy,
        catalogs: Catalogs,
        config: SweepConfig,
    ) -> None:
        self._clock = clock
        staff = StaffTexts(catalogs, config.staff_locale, config.zone)
        self.warnings = SlaWarnings(database, sla, config, staff)
        self.breaches = SlaBreaches(database, sla, catalogs, config, staff)
        self.still_working = StillWorkingSweep(database, catalogs, config)
        self.auto_close = AutoCloseSweep(database, sla, catalogs, config, staff)

    async def run_once(self) -> SlaSweepReport:
        """Breaches first (a ticket past due is not warned about), then warnings, then the
        customers' reminders and auto-close."""
        report = SlaSweepReport()
        now = self._clock.now()
        for target in TARGETS:
            report.breached[target] = await self.breaches.run(target, now)
        for target in TARGETS:
            report.warned[target] = await self.warnings.run(target, now)
        report.still_working = await self.still_working.run(now)
        report.auto_closed = await self.auto_close.run(now)
        return report
