"""Figures written for people: numbers, hours, shares and changes in the staff language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from bot.domain.form import FormSchema
from bot.locales.catalog import Catalogs
from bot.services.analytics.causes import RootCauses
from bot.services.analytics.metrics import NO_TEAM, Change, Share

_catalogs: dict[tuple[Path, str], Catalogs] = {}
DAY_SKELETON = "MMMd"  # CLDR skeleton: day and abbreviated month, in the language's order


@dataclass(frozen=True, slots=True)
class CatalogLabel:
    """Chart labels in one language; small and picklable, so charts can be rendered in the
    report worker process (which loads the catalogues once)."""

    path: Path
    default_locale: str
    locale: str

    def __call__(self, key: str, /, **params: Any) -> str:
        return self._catalogs().plain(key, self.locale, **params)

    def day(self, day: date) -> str:
        """A day on a chart's axis, short, as the language writes it ("23 нояб.", "Nov 23")."""
        return format_skeleton(
            DAY_SKELETON, day, locale=self._catalogs().resolve_locale(self.locale)
        )

    def _catalogs(self) -> Catalogs:
        key_of = (self.path, self.default_locale)
        catalogs = _catalogs.get(key_of)
        if catalogs is None:
            catalogs = _catalogs[key_of] = Catalogs(self.path, self.default_locale)
        return catalogs


@dataclass(frozen=True)
class StatsStyle:
    """How figures are written for people: language, zone and display names."""

    catalogs: Catalogs
    locale: str
    zone: ZoneInfo
    category_titles: Mapping[str, str]
    cause_titles: Mapping[tuple[str, str], str]

    def render(self, key: str, **params: Any) -> str:
        return self.catalogs.render(key, self.locale, **params)

    def plain(self, key: str, **params: Any) -> str:
        return self.catalogs.plain(key, self.locale, **params)

    def date(self, day: date) -> str:
        """A day as the staff language writes it (see `Catalogs.format_date`)."""
        return self.catalogs.format_date(day, self.locale)

    @property
    def label(self) -> CatalogLabel:
        """`plain` as a picklable callable (for charts rendered in the worker process)."""
        return CatalogLabel(self.catalogs.path, self.catalogs.default_locale, self.locale)

    def number(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "—"
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if self.locale == "ru" else text

    def hours(self, value: float | None) -> str:
        if value is None:
            return "—"
        return self.plain("stats.hours", value=self.number(value))

    def percent(self, value: float | None) -> str:
        return "—" if value is None else f"{round(100 * value)}%"

    def change(self, change: Change) -> str:
        percent = change.percent
        if percent is None:
            return self.plain("stats.change.new", previous=change.previous)
        sign = "+" if percent >= 0 else "−"
        return self.plain(
            "stats.change", percent=f"{sign}{round(abs(percent))}%", previous=change.previous
        )

    def share(self, share: Share) -> str:
        return self.plain(
            "stats.share", percent=self.percent(share.share), met=share.met, total=share.total
        )

    def category(self, category: str) -> str:
        return self.category_titles.get(category, category)

    def cause(self, category: str, cause: str) -> str:
        return self.cause_titles.get((category, cause), cause)

    def group_key(self, dimension: str, key: str, agent_names: Mapping[int, str]) -> str:
        if key == NO_TEAM:
            return self.plain(f"stats.none.{dimension}")
        if dimension == "category":
            return self.category(key)
        if dimension == "agent":
            return agent_names.get(int(key), key)
        if dimension == "priority":
            return self.plain(f"stats.priority.{key}")
        return key


def staff_style(
    catalogs: Catalogs, locale: str, zone: ZoneInfo, schema: FormSchema, causes: RootCauses
) -> StatsStyle:
    """The style of the staff language: category titles from the form, cause titles."""
    titles = {c.id: c.title(locale) for c in schema.categories}
    titles.setdefault("question", catalogs.plain("desk.category.question", locale))
    return StatsStyle(catalogs, locale, zone, titles, causes.titles(locale))
