"""`python -m bench` (`make bench`): run every benchmark in turn and print its report."""

from __future__ import annotations

import runpy
import sys

BENCHMARKS = ("bench.form_bench", "bench.relay_bench", "bench.kb_bench", "bench.sweep_bench")


def main() -> int:
    for name in BENCHMARKS:
        print(f"\n## {name}\n", flush=True)
        saved = sys.argv
        sys.argv = [name]
        try:
            runpy.run_module(name, run_name="__main__")
        finally:
            sys.argv = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
