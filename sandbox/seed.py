"""Seed: a realistic week of the desk, made through the bot's own services."""

from __future__ import annotations

from typing import Any

from bot.app import App
from sandbox.world import SandboxWorld


class Seeder:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self.app: App | None = None

    def attach(self, app: App) -> None:
        self.app = app

    async def run(self) -> dict[str, Any]:
        return {}
