"""Showing dates and times to the reader of the update being handled: in the business time
zone, written the way their language writes them (`Catalogs.format_datetime` with Babel)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.telegram.i18n import CatalogI18n


def _current() -> CatalogI18n:
    i18n = CatalogI18n.get_current(no_error=False)
    assert isinstance(i18n, CatalogI18n)
    return i18n


def local_datetime(moment: datetime, zone: ZoneInfo) -> str:
    """`moment` in `zone` ("23.11.2026 12:30" in Russian, "Nov 23, 2026, 12:30" in English)."""
    i18n = _current()
    return i18n.catalogs.format_datetime(moment, zone, i18n.current_locale)


def local_date(day: date) -> str:
    """A calendar day ("23.11.2026" in Russian, "Nov 23, 2026" in English)."""
    i18n = _current()
    return i18n.catalogs.format_date(day, i18n.current_locale)


def iso_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
