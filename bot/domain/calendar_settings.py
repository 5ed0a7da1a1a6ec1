"""Reading the business calendar's settings: working hours, weekdays, holidays, time zone.

Each parser takes the text a person writes in the settings (``"09:00-18:00"``, ``"mon-fri"``,
``"2025-01-01"``, ``"Europe/Moscow"``) and raises ``ValueError`` naming the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["parse_business_hours", "parse_holidays", "parse_timezone", "parse_weekdays"]

MIDNIGHT = time(0)

_WEEKDAY_NAMES: dict[str, int] = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$")


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA time zone name (``"Europe/Moscow"``) as a :class:`ZoneInfo`."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"time zone must be an IANA name like 'Europe/Moscow', got {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: expected an IANA name like 'Europe/Moscow'"
        ) from exc


def parse_business_hours(text: str) -> tuple[time, time]:
    """Parse ``"09:00-18:00"`` into ``(time(9), time(18))``.

    ``24:00`` (or ``00:00``) as the end means midnight at the end of the day and is returned
    as ``time(0)``. Overnight hours such as ``"22:00-06:00"`` are rejected.
    """
    match = _HOURS_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"business hours must look like '09:00-18:00', got {text!r}")
    sh, sm, eh, em = (int(part) for part in match.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em != 0):
        raise ValueError(f"business hours contain an invalid time: {text!r}")
    start = time(sh, sm)
    end = MIDNIGHT if eh == 24 else time(eh, em)
    if end != MIDNIGHT and end <= start:
        raise ValueError(
            f"business hours must end after they start, got {text!r} "
            "(overnight hours are not supported)"
        )
    return start, end


def _weekday(name: str, source: str) -> int:
    try:
        return _WEEKDAY_NAMES[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"unknown weekday {name.strip()!r} in {source!r}: use mon, tue, wed, thu, fri, sat, sun"
        ) from None


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse ``"mon-fri"``, ``"mon,tue,wed"`` or ``"mon-wed,fri"`` into weekday numbers.

    Ranges may wrap around the week (``"sat-mon"`` is Saturday, Sunday, Monday).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"weekdays must look like 'mon-fri' or 'mon,tue,wed', got {text!r}")
    days: set[int] = set()
    for item in text.split(","):
        if not item.strip():
            raise ValueError(f"empty weekday in {text!r}")
        first, sep, last = item.partition("-")
        start = _weekday(first, text)
        if not sep:
            days.add(start)
            continue
        end = _weekday(last, text)
        span = (end - start) % 7
        days.update((start + offset) % 7 for offset in range(span + 1))
    return frozenset(days)


def parse_holidays(values: Iterable[str | date]) -> frozenset[date]:
    """Parse ISO dates (``"2025-01-01"``); ``date`` objects are accepted as they are."""
    if isinstance(values, str):
        raise ValueError("holidays must be a list of ISO dates, not a single string")
    result: set[date] = set()
    for value in values:
        if isinstance(value, date) and not isinstance(value, datetime):
            result.add(value)
            continue
        try:
            result.add(date.fromisoformat(str(value).strip()))
        except ValueError:
            raise ValueError(f"invalid holiday date {value!r}: expected YYYY-MM-DD") from None
    return frozenset(result)
