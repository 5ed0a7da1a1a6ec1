"""Message catalogues: every `<locale>/LC_MESSAGES/*.po` file, compiled in memory at start-up.

Message ids are symbolic keys (`form.description.prompt`); each feature keeps its texts in
its own `.po` file and all files of a locale are merged into one gettext catalogue.
"""

from __future__ import annotations

import gettext
import html
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
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


def load_catalog(locale_dir: Path) -> dict[str, str]:
    """All keys of one locale, merged from its .po files; a key defined twice is an error."""
    messages: dict[str, str] = {}
    origin: dict[str, str] = {}
    for po_path in sorted((locale_dir / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as handle:
            try:
                catalog = read_po(handle, abort_invalid=True)
            except Exception as exc:  # babel raises several kinds; all mean a broken file
                raise CatalogError(f"{po_path.name}: {exc}") from exc
        for message in catalog:
            if not message.id or not isinstance(message.id, str):
                continue
            if message.id in messages:
                raise CatalogError(
                    f"key {message.id!r} is defined in both {origin[message.id]} and {po_path.name}"
                )
            messages[message.id] = str(message.string or "")
            origin[message.id] = po_path.name
    return messages


def compile_translations(messages: Mapping[str, str], locale: str) -> gettext.GNUTranslations:
    catalog = Catalog(locale=locale)
    for key, text in messages.items():
        if text:
            catalog.add(key, text)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Catalogs:
    """Renders keys in a locale, escaping every parameter unless it is `Markup`."""

    def __init__(self, path: Path = LOCALES_DIR, default_locale: str = "ru") -> None:
        self.path = path
        self.default_locale = default_locale
        self.messages: dict[str, dict[str, str]] = {}
        for locale_dir in sorted(p for p in path.iterdir() if (p / "LC_MESSAGES").is_dir()):
            self.messages[locale_dir.name] = load_catalog(locale_dir)
        if default_locale not in self.messages:
            raise CatalogError(f"no catalogue for the default locale {default_locale!r}")
        self.translations = {
            locale: compile_translations(messages, locale)
            for locale, messages in self.messages.items()
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
        """`count` with its noun in the locale's plural form ("1 day", "2 days"; "2 дня",
        "5 дней"): the key `<key>.<form>` with the CLDR form (one, few, many, other)."""
        resolved = self.resolve_locale(locale)
        form = Locale.parse(resolved).plural_form(count)
        name = f"{key}.{form}"
        template = self.raw(name, resolved)
        if template == name:
            template = self.raw(f"{key}.other", resolved)
        return template.format(count=count)

    def plain(self, key: str, locale: str | None, /, **params: Any) -> str:
        """Text that Telegram shows as is (button labels, topic names): nothing is escaped."""
        template = self.raw(key, locale)
        return template.format(**params) if params else template
