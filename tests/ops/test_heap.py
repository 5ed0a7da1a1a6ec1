"""The start-up heap is frozen without a full collection, so neither the freeze nor the full
collections after it walk the start-up heap."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.ops.heap import freeze_startup_heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture
def generations() -> Iterator[list[int]]:
    """The generation of every collection that runs while the test does."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)


def test_the_freeze_runs_no_full_collection(generations: list[int]) -> None:
    frozen = freeze_startup_heap()

    assert generations  # the young generations were collected
    assert max(generations) < 2  # a full pass would walk the whole heap: a stall of its own
    assert frozen == gc.get_freeze_count() > 0


def test_garbage_the_start_just_dropped_is_freed_not_frozen() -> None:
    dropped = Node()
    gone = weakref.ref(dropped)
    del dropped

    freeze_startup_heap()

    assert gone() is None


def test_what_is_alive_is_frozen() -> None:
    kept = Node()
    before = gc.get_freeze_count()

    freeze_startup_heap()

    assert gc.get_freeze_count() > before
    # gc.get_objects() lists the collected generations only, not the frozen objects
    assert not any(found is kept for found in gc.get_objects())
