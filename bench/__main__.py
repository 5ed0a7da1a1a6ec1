"""`python -m bench` (`make bench`): run every benchmark, each in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

# One process per run: earlier runs in the same interpreter (their objects, caches and
# garbage) would otherwise slow the later ones down.
RUNS: tuple[tuple[str, ...], ...] = (
    ("bench.form_bench", "--session", "light"),
    ("bench.form_bench", "--session", "fake"),
    ("bench.relay_bench",),
    ("bench.kb_bench",),
    ("bench.sweep_bench",),
    ("bench.load_bench", "--rate", "20", "--seconds", "30"),
    ("bench.outbox_bench",),
    ("bench.ops_bench",),
    ("bench.incident_bench",),
    ("bench.stats_bench", "--tickets", "100000"),
    ("bench.memory_bench",),
)
# On PostgreSQL only: run when `TEST_POSTGRES_URL` names a server.
ON_POSTGRES: tuple[tuple[str, ...], ...] = (
    ("bench.statement_cost_bench",),
    ("bench.hot_paths_bench",),
)


def main() -> int:
    failed = 0
    runs = RUNS + (ON_POSTGRES if os.environ.get("TEST_POSTGRES_URL") else ())
    for module, *args in runs:
        print(f"\n## {module} {' '.join(args)}\n", flush=True)
        failed += subprocess.run([sys.executable, "-m", module, *args], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
