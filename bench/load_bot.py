"""The bot exactly as `python -m bot` runs it, plus an event-loop lag sampler, for the load
bench (`bench/load_bench.py`). The lag statistics go to the JSON file named by
`BENCH_LAG_FILE` when the bot stops; with `BENCH_PROFILE` set, a cProfile of the whole run
goes to that file.

The sampler takes its first step before the bot builds anything, so every pause of the loop
is seen; the lags are reported in two phases: the start (building the app, migrations, the
command menu, freezing the start-up heap: no update is taken yet) and serving (from the moment
the bot is up, `run`'s `on_started`, to its stop), the one users notice."""

from __future__ import annotations

import asyncio
import cProfile
import json
import logging
import os
import sys
import time  # at the top: a collection at the interpreter's exit may not import

from bot.__main__ import load_settings
from bot.app import App
from bot.event_loop import run_event_loop
from bot.runner import run

SAMPLE_EVERY = 0.02  # seconds


STALL = 0.1  # seconds: a lag this long is listed with when it happened
STALLS: list[tuple[float, float]] = []  # (seconds since the sampler started, lag)
SERVING_FROM: list[float] = []  # seconds since the sampler started when the bot was up


# (generation, ms, objects freed) of collections over 50 ms
GC_PAUSES: list[tuple[int, float, int]] = []
_gc_began = [0.0]


def _gc_timer(phase: str, info: dict[str, int]) -> None:

    if phase == "start":
        _gc_began[0] = time.perf_counter()
    else:
        took = 1000 * (time.perf_counter() - _gc_began[0])
        if took > 50:
            GC_PAUSES.append((info["generation"], round(took, 1), info["collected"]))


async def _sample(lags: list[tuple[float, float]], started: float) -> None:
    """(seconds since ``started`` at the sample's start, lag) every ``SAMPLE_EVERY``."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(SAMPLE_EVERY)
        lag = max(0.0, loop.time() - before - SAMPLE_EVERY)
        lags.append((before - started, lag))
        if lag >= STALL:
            STALLS.append((round(before - started, 2), round(1000 * lag, 1)))


async def _main(lags: list[tuple[float, float]]) -> None:
    settings = load_settings()
    if settings is None:
        raise SystemExit(2)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # no line per update
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def serving(app: App) -> None:
        SERVING_FROM.append(loop.time() - started)

    sampler = asyncio.create_task(_sample(lags, started))
    await asyncio.sleep(0)  # the sampler's first step: it sees the start as well
    try:
        await run(settings, on_started=serving)
    finally:
        sampler.cancel()


def _write(lags: list[tuple[float, float]], lag_file: str) -> None:
    serving_from = SERVING_FROM[0] if SERVING_FROM else float("inf")
    serving = sorted(lag for at, lag in lags if at >= serving_from) or [0.0]
    start = [lag for at, lag in lags if at < serving_from] or [0.0]
    with open(lag_file, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "serving_from_s": round(serving_from, 2),
                "max_ms": 1000 * serving[-1],
                "p99_ms": 1000 * serving[round(0.99 * (len(serving) - 1))],
                "samples": len(serving),
                "start_max_ms": 1000 * max(start),
                "stalls_over_100ms": [s for s in STALLS if s[0] >= serving_from],
                "start_stalls_over_100ms": [s for s in STALLS if s[0] < serving_from],
                "gc_pauses_over_50ms": GC_PAUSES,
            },
            handle,
        )


if __name__ == "__main__":
    samples: list[tuple[float, float]] = []
    import gc

    gc.callbacks.append(_gc_timer)
    profile_file = os.environ.get("BENCH_PROFILE")
    profiler = cProfile.Profile() if profile_file else None
    try:
        if profiler is not None:
            profiler.enable()
        run_event_loop(_main(samples))
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile_file))
        _write(samples, os.environ.get("BENCH_LAG_FILE", "load_lag.json"))
    sys.exit(0)
