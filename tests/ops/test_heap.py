"""The start-up heap is collected once and then frozen, so full collections skip it."""

from __future__ import annotations

import gc

import pytest

from bot.ops.heap import freeze_startup_heap


def test_the_heap_is_collected_then_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def collect(*args: int) -> int:
        calls.append("collect")
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 1234)

    assert freeze_startup_heap() == 1234
    assert calls == ["collect", "freeze"]
