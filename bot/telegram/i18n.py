"""aiogram's i18n on top of our catalogues, and `t()` for rendering a key in the current locale."""

from __future__ import annotations

import gettext
from typing import Any

from aiogram.utils.i18n import I18n

from bot.locales.catalog import Catalogs


class CatalogI18n(I18n):
    """aiogram I18n whose translations come from the in-memory compiled catalogues."""

    def __init__(self, catalogs: Catalogs) -> None:
        self.catalogs = catalogs
        super().__init__(path=catalogs.path, default_locale=catalogs.default_locale)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return {locale: self.catalogs.translations[locale] for locale in self.catalogs.locales}

    def render(self, key: str, /, **params: Any) -> str:
        return self.catalogs.render(key, self.current_locale, **params)

    def plain(self, key: str, /, **params: Any) -> str:
        return self.catalogs.plain(key, self.current_locale, **params)


def t(key: str, /, **params: Any) -> str:
    """The text of `key` in the locale of the update being handled, parameters escaped."""
    i18n = CatalogI18n.get_current(no_error=False)
    assert isinstance(i18n, CatalogI18n)
    return i18n.render(key, **params)


def t_plain(key: str, /, **params: Any) -> str:
    """Like `t` but for text Telegram does not parse as HTML (button labels): no escaping."""
    i18n = CatalogI18n.get_current(no_error=False)
    assert isinstance(i18n, CatalogI18n)
    return i18n.plain(key, **params)


def t_count(key: str, count: int) -> str:
    """`count` with its noun in the current locale's plural form ("1 file", "5 файлов")."""
    i18n = CatalogI18n.get_current(no_error=False)
    assert isinstance(i18n, CatalogI18n)
    return i18n.catalogs.count(key, i18n.current_locale, count)


def current_locale() -> str:
    i18n = CatalogI18n.get_current(no_error=False)
    assert i18n is not None
    return i18n.current_locale
