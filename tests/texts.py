"""The project's message catalogues for tests that build services by hand, read once per test
process: parsing and compiling the .po files takes tens of milliseconds, and tests only read
them."""

from __future__ import annotations

from functools import cache

from bot.locales.catalog import Catalogs


@cache
def project_catalogs(default_locale: str = "ru") -> Catalogs:
    return Catalogs(default_locale=default_locale)
