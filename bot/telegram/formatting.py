"""Showing dates and times to people: in the business time zone, in a familiar format."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_datetime(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def local_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def iso_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
