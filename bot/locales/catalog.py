"""Message catalogues: every `<locale>/LC_MESSAGES/*.po` file, compiled in memory at start-up.

Message ids are symbolic keys (`form.description.prompt`); each feature keeps its texts in
its own `.po` file and all files of a locale are merged into one gettext catalogue.

Texts that count something are gettext plural entries: `msgid` and `msgid_plural` are both
the key, `msgstr[0..n]` the forms, and the file's `Plural-Forms` header is the rule Babel
has for the language from CLDR (ru: one / few / many, en: one / other); `Catalogs.count`
picks the form with `ngettext`. Dates and times are shown by `Catalogs.format_datetime` and
`Catalogs.format_date` with Babel, in the pattern the catalogue gives (`format.datetime`,
`format.date`), so month names and the order of the parts follow the reader's language.
"""

from __future__ import annotations

import gettext
import html
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent
SUPPORTED_LOCALES: tuple[str, ...] = ("ru", "en")


class CatalogError(RuntimeError):
    """A catalogue file is broken or two files define the same key."""


class Markup(str):
    """Text that is already safe HTML; `render` does not escape it."""

    __slots__ = ()


def _escape(value: Any) -> str:
    if isinstance(value, Markup):
        return str(value)
    return html.escape(str(value), quote=False)


@dataclass
class LocaleTexts:
    """All keys of one locale: plain texts, and the forms of each plural entry."""

    messages: dict[str, str] = field(default_factory=dict)
    plurals: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _same_rule(expression: str, locale: str) -> bool:
    """Whether a Plural-Forms expression picks the same form as Babel's rule for `locale`."""
    ours, babel = gettext.c2py(expression), gettext.c2py(Catalog(locale=locale).plural_expr)
    return all(ours(n) == babel(n) for n in range(1000))


def load_catalog(locale_dir: Path) -> LocaleTexts:
    """All keys of one locale, merged from its .po files; a key defined twice is an error, so
    is a plural entry whose forms or Plural-Forms header do not match the language's rule."""
    texts = LocaleTexts()
    origin: dict[str, str] = {}
    locale = locale_dir.name
    forms = Catalog(locale=locale).num_plurals
    for po_path in sorted((locale_dir / "LC_MESSAGES").glob("*.po")):
        source = po_path.read_bytes()
        try:
            catalog = read_po(BytesIO(source), locale=locale, abort_invalid=True)
        except Exception as exc:  # babel raises several kinds; all mean a broken file
            raise CatalogError(f"{po_path.name}: {exc}") from exc
        for message in catalog:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else str(message.id[0])
            if key in origin:
                raise CatalogError(
                    f"key {key!r} is defined in both {origin[key]} and {po_path.name}"
                )
            origin[key] = po_path.name
            if isinstance(message.id, str):
                texts.messages[key] = str(message.string or "")
                continue
            if b'"Plural-Forms:' not in source:
                raise CatalogError(f"{po_path.name}: plural entries need a Plural-Forms header")
            if catalog.num_plurals != forms or not _same_rule(catalog.plural_expr, locale):
                raise CatalogError(
                    f"{po_path.name}: Plural-Forms must be the rule for {locale!r}: "
                    f"{Catalog(locale=locale).plural_forms}"
                )
            strings = () if isinstance(message.string, str) else tuple(message.string or ())
            given = tuple(str(text) for text in strings if text)
            if len(given) != forms:  # babel pads missing forms with empty strings
                raise CatalogError(
                    f"{po_path.name}: {key!r} needs {forms} plural forms, has {len(given)}"
                )
            texts.plurals[key] = given
    return texts


def compile_translations(texts: LocaleTexts, locale: str) -> gettext.GNUTranslations:
    catalog = Catalog(locale=locale)
    for key, text in texts.messages.items():
        if text:
            catalog.add(key, text)
    for key, strings in texts.plurals.items():
        catalog.add((key, key), strings)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Catalogs:
    """Renders keys in a locale, escaping every parameter unless it is `Markup`."""

    def __init__(self, path: Path = LOCALES_DIR, default_locale: str = "ru") -> None:
        self.path = path
        self.default_locale = default_locale
        texts = {
            locale_dir.name: load_catalog(locale_dir)
            for locale_dir in sorted(p for p in path.iterdir() if (p / "LC_MESSAGES").is_dir())
        }
        if default_locale not in texts:
            raise CatalogError(f"no catalogue for the default locale {default_locale!r}")
        self.messages: dict[str, dict[str, str]] = {
            locale: found.messages for locale, found in texts.items()
        }
        self.plurals: dict[str, dict[str, tuple[str, ...]]] = {
            locale: found.plurals for locale, found in texts.items()
        }
        self.translations = {
            locale: compile_translations(found, locale) for locale, found in texts.items()
        }

    @property
    def locales(self) -> tuple[str, ...]:
        """Supported locales first, in their usual order, then any others found."""
        known = [loc for loc in SUPPORTED_LOCALES if loc in self.messages]
        return tuple(known + sorted(set(self.messages) - set(known)))

    def resolve_locale(self, locale: str | None) -> str:
        return locale if locale in self.messages else self.default_locale

    def raw(self, key: str, locale: str | None) -> str:
        translations = self.translations[self.resolve_locale(locale)]
        return translations.gettext(key)

    def render(self, key: str, locale: str | None, /, **params: Any) -> str:
        """HTML message text: parameters are escaped."""
        template = self.raw(key, locale)
        if not params:
            return template
        return template.format(**{name: _escape(value) for name, value in params.items()})

    def count(self, key: str, locale: str | None, count: int) -> str:
        """`count` with its noun: the plural entry `key` in the form the locale's rule gives
        for `count` ("1 day", "2 days"; "1 день", "2 дня", "5 дней")."""
        template = self.translations[self.resolve_locale(locale)].ngettext(key, key, count)
        return template.format(count=count)

    def format_datetime(self, moment: datetime, zone: ZoneInfo, locale: str | None) -> str:
        """A moment as people of `locale` write it, in `zone` ("Nov 23, 2026, 12:30",
        "23.11.2026 12:30"): every date and time the bot shows goes through here."""
        resolved = self.resolve_locale(locale)
        pattern = self._pattern("format.datetime", resolved)
        return format_datetime(moment, pattern, tzinfo=zone, locale=resolved)

    def format_date(self, day: date, locale: str | None) -> str:
        """A calendar day as people of `locale` write it ("Nov 23, 2026", "23.11.2026")."""
        resolved = self.resolve_locale(locale)
        return format_date(day, self._pattern("format.date", resolved), locale=resolved)

    def _pattern(self, key: str, locale: str) -> str:
        """A CLDR pattern from the catalogue; Babel's medium format for a language without."""
        pattern = self.raw(key, locale)
        return "medium" if pattern == key else pattern

    def plain(self, key: str, locale: str | None, /, **params: Any) -> str:
        """Text that Telegram shows as is (button labels, topic names): nothing is escaped."""
        template = self.raw(key, locale)
        return template.format(**params) if params else template
