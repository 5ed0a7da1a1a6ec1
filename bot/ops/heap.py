"""The start-up heap kept out of the garbage collector's full passes.

What: once the bot is up, `freeze_startup_heap` collects once and moves every object built so
far (aiogram's pydantic models, SQLAlchemy's mappers and compiled statements, the knowledge
base's index, the catalogues, the form) into the permanent generation with `gc.freeze()`.

Why: a full (generation 2) collection walks every tracked object. With that heap it stopped the
event loop for 210-230 ms about once a minute under load (`bench/load_bench.py` lists the loop's
stalls and the collector's pauses), against a 100 ms loop-lag target; after the freeze a full
pass walks only what was made since.

Price: frozen objects are never freed. They are the process's long-lived state, which lives as
long as the process anyway; garbage made during the start and still in a cycle at the freeze
stays (collected once just before freezing, so there is little).
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then freeze everything alive; returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
