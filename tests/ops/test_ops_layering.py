"""The parts of bot/ops that use cases and jobs call (context, metrics) stay free of Telegram
and storage, so the dependency rule of README.md (Architecture) holds through them too."""

from __future__ import annotations

import pytest

from tests.test_architecture import GRAPH, _violations


@pytest.mark.parametrize("module", ["bot.ops.context", "bot.ops.metrics", "bot.ops.logs"])
def test_what_services_import_from_ops_is_plain_python(module: str) -> None:
    assert module in GRAPH
    assert _violations(module, ("aiogram", "storage", "bot.telegram", "bot.services")) == []


def test_services_and_jobs_use_only_those_parts_of_ops() -> None:
    allowed = {"bot.ops.context", "bot.ops.metrics"}
    used = {
        imported
        for module, imports in GRAPH.items()
        if module.startswith(("bot.services", "bot.jobs", "storage"))
        for imported in imports
        if imported.startswith("bot.ops")
    }
    assert used <= allowed
