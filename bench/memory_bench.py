"""What the bot's resident memory (RSS) at the start is made of.

Builds the app in this fresh process as `python -m bot` does and reports the RSS after each
step: the interpreter; the imports, with the growth each top-level package brought at its
first import (its own, not that of the packages it imported in turn); the assets (texts,
complaint form, knowledge base); the app. What the running bot adds under load (connections,
caches, updates in flight) is measured by `bench/load_bench.py` (RSS when up and at the end).

    python -m bench.memory_bench [--database URL] [--top 20]
"""

from __future__ import annotations

import argparse
import builtins
import gc
import importlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class ImportGrowth:
    """RSS growth per top-level package at its first import, nested first imports excluded."""

    def __init__(self) -> None:
        self.own: dict[str, float] = {}
        self._nested: list[float] = []
        self._real = builtins.__import__

    def _import(
        self,
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> ModuleType:
        top = name.partition(".")[0]
        if level or top in sys.modules or top in self.own:
            return self._real(name, globals, locals, fromlist, level)
        self.own[top] = 0.0
        self._nested.append(0.0)
        before = rss_mb()
        try:
            return self._real(name, globals, locals, fromlist, level)
        finally:
            grown = rss_mb() - before
            nested = self._nested.pop()
            self.own[top] += grown - nested
            if self._nested:
                self._nested[-1] += grown

    def run(self, work: Callable[[], Any]) -> None:
        builtins.__import__ = self._import
        try:
            work()
        finally:
            builtins.__import__ = self._real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--top", type=int, default=20, help="packages listed")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="memory_bench")
    os.environ.update(
        BOT_TOKEN="1:x",
        STAFF_CHAT_ID="-100123",
        DEFAULT_LOCALE="en",
        DATABASE_URL=args.database or f"sqlite+aiosqlite:///{Path(folder) / 'bot.db'}",
    )
    stages: list[tuple[str, float, float]] = [("interpreter", rss_mb(), 0.0)]

    def stage(name: str, work: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = work()
        stages.append((name, rss_mb(), time.perf_counter() - began))
        return result

    growth = ImportGrowth()
    stage("imports of `python -m bot`", lambda: growth.run(_import_the_bot))
    from bot.__main__ import load_settings
    from bot.app import build_app, load_assets, load_knowledge_base
    from bot.forms.loader import load_form
    from bot.locales.catalog import Catalogs

    settings = load_settings()
    assert settings is not None
    stage("texts (catalogues)", lambda: Catalogs(default_locale=settings.default_locale))
    stage("complaint form", lambda: load_form(settings.complaint_form_file))
    knowledge = stage("knowledge base (loaded, indexed)", lambda: load_knowledge_base(settings))
    assets = load_assets(settings)
    stage("the app (build_app)", lambda: build_app(settings, assets=assets))
    stage("collected", gc.collect)

    from bench.common import machine

    print(f"machine: {machine()}")
    entries = sum(len(knowledge.entries(locale)) for locale in knowledge.locales)
    print(f"knowledge base: {entries} entries in {settings.knowledge_base_dir}")
    print("\n| step | RSS after | grew by | took |\n|---|---|---|---|")
    previous = stages[0][1]
    for name, rss, took in stages:
        print(f"| {name} | {rss:.1f} MB | {rss - previous:+.1f} MB | {took:.2f} s |")
        previous = rss
    print("\n| package (first import) | own growth |\n|---|---|")
    ranked = sorted(growth.own.items(), key=lambda item: -item[1])
    for package, mb in ranked[: args.top]:
        print(f"| {package} | {mb:.1f} MB |")
    rest = sum(mb for _, mb in ranked[args.top :])
    print(f"| {len(ranked) - args.top} others | {rest:.1f} MB |")
    unattributed = stages[1][1] - stages[0][1] - sum(growth.own.values())
    print(f"| the rest: the project's modules, later imports | {unattributed:.1f} MB |")


def _import_the_bot() -> None:
    importlib.import_module("bot.__main__")
    importlib.import_module("bot.runner")


if __name__ == "__main__":
    main()
