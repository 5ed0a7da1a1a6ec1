"""Helpers shared by the benchmarks: the echo baseline, timing statistics and a description of
the machine."""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.types import Message, Update


@dataclass(frozen=True)
class Latencies:
    samples_ms: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    @property
    def per_second(self) -> float:
        return 1000.0 * len(self.samples_ms) / sum(self.samples_ms)


def host_speed_ms(repeats: int = 5, rows: int = 20_000) -> float:
    """CPU milliseconds of a fixed pure-Python workload (dicts, strings, JSON, sorting) of
    `rows` rows, the best of `repeats`: the same code gives the same number on a host running
    at the same speed, so a run on a slower host (a busy neighbour, a lower clock) can be told
    from slower code. CPU time, not wall time: waiting for a core does not count, running
    slower on it does. The collector is off meanwhile: what it would do depends on the heap."""
    best = float("inf")
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.process_time()
            made = [{"id": n, "text": f"message {n}", "tags": [n % 7, n % 11]} for n in range(rows)]
            decoded = json.loads(json.dumps(made))
            decoded.sort(key=lambda row: (row["tags"][1], row["text"]))
            best = min(best, 1000 * (time.process_time() - started))
    finally:
        if collecting:
            gc.enable()
    return best


def pin_to_one_core() -> str:
    """Run on one core so numbers mean "per core"; returns what was done."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity)"


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, {platform.system()}"


def echo_bot(session: BaseSession) -> tuple[Dispatcher, Bot]:
    """The baseline: a bare aiogram dispatcher with one `message.answer(message.text)` handler."""
    router = Router()

    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    router.message.register(echo)
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher, Bot("42:BENCH", session=session)


async def time_updates(dispatcher: Dispatcher, bot: Bot, updates: list[Update]) -> list[float]:
    """Feed the updates one by one; milliseconds each."""
    samples = []
    for update in updates:
        began = time.perf_counter()
        await dispatcher.feed_update(bot, update)
        samples.append((time.perf_counter() - began) * 1000)
    return samples
