"""The start-up heap kept out of the garbage collector's full passes.

What: once the bot is up, `freeze_startup_heap` collects the young generations and moves every
object built so far (aiogram's pydantic models, SQLAlchemy's mappers and compiled statements,
the knowledge base's index, the catalogues, the form) into the permanent generation with
`gc.freeze()`.

Why: a full (generation 2) collection walks every tracked object. With that heap it stopped the
event loop for 210-230 ms about once a minute under load (`bench/load_bench.py` lists the loop's
stalls and the collector's pauses), against a 100 ms loop-lag target; after the freeze a full
pass walks only what was made since.

No full collection first: it would walk the same heap (about 300,000 objects, 215-285 ms, a
stall of its own at the start) to find about 20 unreachable objects; the interpreter's own full
passes during the imports have already freed the start-up's garbage. The young generations
(what the start made and dropped last) take about a millisecond.

Price: frozen objects are never freed. They are the process's long-lived state, which lives as
long as the process anyway; a cycle that became garbage after the last full pass of the start
stays (measured: about 20 objects, under a kilobyte).
"""

from __future__ import annotations

import gc

YOUNG = 1  # generations 0 and 1: what the start made since the last full pass


def freeze_startup_heap() -> int:
    """Collect the young generations, then freeze everything alive; returns how many objects
    are frozen."""
    gc.collect(YOUNG)
    gc.freeze()
    return gc.get_freeze_count()
