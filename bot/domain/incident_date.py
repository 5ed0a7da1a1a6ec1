"""Parsing "when did it happen": buttons give today or yesterday, typed text gives a date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class DateProblem(StrEnum):
    INVALID = "invalid"
    FUTURE = "future"
    TOO_OLD = "too_old"


@dataclass(frozen=True, slots=True)
class DateParseResult:
    value: date | None
    problem: DateProblem | None = None


_FULL_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SHORT_DM = re.compile(r"^(\d{1,2})[./](\d{1,2})$")

MAX_AGE = timedelta(days=3 * 366)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_incident_date(text: str, *, today: date) -> DateParseResult:
    """Accept `dd.mm.yyyy`, `yyyy-mm-dd` and `dd.mm` (the latest such day not after today)."""
    cleaned = text.strip().rstrip(".")
    parsed: date | None = None
    if match := _ISO.match(cleaned):
        parsed = _safe_date(int(match[1]), int(match[2]), int(match[3]))
    elif match := _FULL_DMY.match(cleaned):
        parsed = _safe_date(int(match[3]), int(match[2]), int(match[1]))
    elif match := _SHORT_DM.match(cleaned):
        day, month = int(match[1]), int(match[2])
        parsed = _safe_date(today.year, month, day)
        if parsed is not None and parsed > today:
            parsed = _safe_date(today.year - 1, month, day)
    if parsed is None:
        return DateParseResult(None, DateProblem.INVALID)
    if parsed > today:
        return DateParseResult(None, DateProblem.FUTURE)
    if today - parsed > MAX_AGE:
        return DateParseResult(None, DateProblem.TOO_OLD)
    return DateParseResult(parsed)
