"""The event loop the bot runs on: uvloop where it is installed, else asyncio's own.

uvloop implements the loop and its sockets in C. The bot's hot path is many short round trips
(PostgreSQL statements, Bot API calls), and each one costs a socket write, a read and a wake-up
of the loop. On uvloop the load bench's bot took 13.5-14.1 ms of CPU per update at 50
updates a second instead of 15.0-15.2 ms (`docs/benchmarks.md`). uvloop has no Windows
build; there the bot runs on asyncio's loop, which behaves the same, only slower.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
