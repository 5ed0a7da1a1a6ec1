"""Time zones, calendars and instants the service-level tests share."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.business_calendar import BusinessCalendar
from bot.domain.sla import SlaPolicy

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)

MOSCOW_CAL = BusinessCalendar()
BERLIN_CAL = BusinessCalendar(timezone=BERLIN)


def msk(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=MSK)


def berlin(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=BERLIN)


def business_policy(**kwargs: object) -> SlaPolicy:
    return SlaPolicy(business_time_only=True, **kwargs)  # type: ignore[arg-type]
