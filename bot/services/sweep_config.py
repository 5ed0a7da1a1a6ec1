"""What the service-level sweeps are told at start: where the desk is and how patient to be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SweepConfig:
    staff_chat_id: int | None
    staff_locale: str
    zone: ZoneInfo
    supervisor_ids: tuple[int, ...] = ()
    still_working_after: timedelta = timedelta(hours=24)
    auto_close_after: timedelta = timedelta(days=7)
    raises_priority: bool = False
    batch_size: int = 500
