"""Knowledge base matching benchmark: `python -m bench.kb_bench` from the repository root.

Builds synthetic Russian knowledge bases of 100, 1,000 and 10,000 entries (the shipped
starter set plus generated product questions), then measures for `KnowledgeBase` the
build time (reading the files from a temporary directory and indexing), the memory the
built knowledge base keeps (tracemalloc), `search` and `decide` latency and top-1 accuracy,
next to `difflib.get_close_matches` and plain `rapidfuzz.process.extractOne` scans over all
questions on the same data and queries. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from bench.kb_corpus import (
    DATA_DIR,
    LOCALE,
    Query,
    customer_query,
    phrasings,
    real_queries,
    sample,
    synthetic_entries,
    write_kb,
)
from knowledge_base import KnowledgeBase
from knowledge_base.loader import load_dir

BUILD_REPEATS = 3


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(function: Callable[[str], object], queries: Sequence[Query]) -> list[float]:
    """Wall-clock milliseconds per query."""
    samples: list[float] = []
    for query in queries:
        start = time.perf_counter()
        function(query.text)
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def cpu_timed(function: Callable[[str], object], queries: Sequence[Query]) -> list[float]:
    """CPU milliseconds per query: unlike wall-clock, not inflated by other processes."""
    samples: list[float] = []
    for query in queries:
        start = time.process_time()
        function(query.text)
        samples.append((time.process_time() - start) * 1000.0)
    return samples


@dataclass
class Row:
    size: int
    method: str
    build_s: tuple[float, float] | None
    memory_mb: float | None
    search_ms: tuple[float, float]
    decide_ms: tuple[float, float] | None
    decide_cpu_p99_ms: float | None
    generated_top1: float
    real_top1: float
    queries: int


def accuracy(predict: Callable[[str], str | None], queries: Sequence[Query]) -> float:
    return sum(predict(query.text) == query.entry_id for query in queries) / len(queries)


def bench_ours(size: int, root: Path, generated: list[Query], real: list[Query]) -> Row:
    builds: list[float] = []
    build_cpu: list[float] = []
    for _ in range(BUILD_REPEATS):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        kb = KnowledgeBase.from_dir(root)
        builds.append(time.perf_counter() - start)
        build_cpu.append(time.process_time() - start_cpu)
        del kb
    gc.collect()
    tracemalloc.start()
    kb = KnowledgeBase.from_dir(root)
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    queries = generated + real
    kb.search(queries[0].text)  # first call pays one-off imports

    def top(text: str) -> str | None:
        found = kb.search(text, LOCALE, 1)
        return found[0].entry_id if found else None

    search = timed(lambda text: kb.search(text, LOCALE, 3), queries)
    decide = timed(lambda text: kb.decide(text, LOCALE), queries)
    decide_cpu = cpu_timed(lambda text: kb.decide(text, LOCALE), queries)
    return Row(
        size,
        "KnowledgeBase (ours)",
        (statistics.median(builds), statistics.median(build_cpu)),
        retained,
        (statistics.median(search), percentile(search, 0.99)),
        (statistics.median(decide), percentile(decide, 0.99)),
        percentile(decide_cpu, 0.99),
        accuracy(top, generated),
        accuracy(top, real),
        len(queries),
    )


def bench_scan(
    size: int,
    name: str,
    questions: list[str],
    owners: list[str],
    best_index: Callable[[str], int | None],
    generated: list[Query],
    real: list[Query],
) -> Row:
    def top(text: str) -> str | None:
        found = best_index(text)
        return None if found is None else owners[found]

    queries = generated + real
    search = timed(top, queries)
    return Row(
        size,
        name,
        None,
        None,
        (statistics.median(search), percentile(search, 0.99)),
        None,
        None,
        accuracy(top, generated),
        accuracy(top, real),
        len(queries),
    )


def rapidfuzz_scan(
    questions: list[str], scorer: Callable[..., float]
) -> Callable[[str], int | None]:
    processed = [utils.default_process(q) for q in questions]

    def best(text: str) -> int | None:
        found = process.extractOne(
            utils.default_process(text), processed, scorer=scorer, processor=None
        )
        return None if found is None else found[2]

    return best


def difflib_scan(questions: list[str]) -> Callable[[str], int | None]:
    lowered = [q.lower() for q in questions]
    position = {q: i for i, q in enumerate(lowered)}

    def best(text: str) -> int | None:
        found = difflib.get_close_matches(text.lower(), lowered, n=1, cutoff=0.0)
        return position[found[0]] if found else None

    return best


def run(
    sizes: Sequence[int], query_count: int, scan_queries: int, difflib_queries: int, seed: int
) -> list[Row]:
    real_entries = [e for e in load_dir(DATA_DIR).entries if e.locale == LOCALE]
    real = real_queries()
    rows: list[Row] = []
    for size in sizes:
        rng = random.Random(seed + size)
        generated_entries, held_back = synthetic_entries(rng, max(size - len(real_entries), 0))
        picked = rng.sample(generated_entries, min(query_count, len(generated_entries)))
        generated = [
            Query(customer_query(rng, rng.choice(phrasings(e, held_back, rng))), str(e["id"]))
            for e in picked
        ]
        with tempfile.TemporaryDirectory() as temp:
            root = Path(temp)
            write_kb(root, real_entries, generated_entries)
            rows.append(bench_ours(size, root, generated, real))
        questions: list[str] = []
        owners: list[str] = []
        for entry in real_entries:
            questions.extend(entry.questions)
            owners.extend([entry.id] * len(entry.questions))
        for item in generated_entries:
            texts = [str(q) for q in item["questions"]]  # type: ignore[attr-defined]
            questions.extend(texts)
            owners.extend([str(item["id"])] * len(texts))
        # The scans compare the query with every question, so at large sizes they time a
        # sample of the queries (the table says how many).
        scan_limit = scan_queries if len(questions) > 5_000 else None
        difflib_limit = difflib_queries if len(questions) > 1_000 else None
        scans: list[tuple[str, Callable[[str], int | None], int | None]] = [
            (
                "rapidfuzz extractOne scan, WRatio",
                rapidfuzz_scan(questions, fuzz.WRatio),
                scan_limit,
            ),
            (
                "rapidfuzz extractOne scan, token_set_ratio",
                rapidfuzz_scan(questions, fuzz.token_set_ratio),
                scan_limit,
            ),
            ("difflib.get_close_matches", difflib_scan(questions), difflib_limit),
        ]
        for label, best_index, limit in scans:
            share = (
                None if limit is None else max(1, limit * len(generated) // len(generated + real))
            )
            rows.append(
                bench_scan(
                    size,
                    label,
                    questions,
                    owners,
                    best_index,
                    sample(generated, share),
                    sample(real, None if limit is None or share is None else limit - share),
                )
            )
        print(f"size {size}: done", file=sys.stderr, flush=True)
    return rows


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| entries | method | build s, wall / CPU | memory MB | search p50 / p99 ms "
        "| decide p50 / p99 ms | decide p99 CPU ms | top-1 generated | top-1 real queries "
        "| queries timed |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        build = f"{row.build_s[0]:.2f} / {row.build_s[1]:.2f}" if row.build_s else "—"
        memory = f"{row.memory_mb:.1f}" if row.memory_mb is not None else "—"
        decide = f"{row.decide_ms[0]:.2f} / {row.decide_ms[1]:.2f}" if row.decide_ms else "—"
        cpu = f"{row.decide_cpu_p99_ms:.2f}" if row.decide_cpu_p99_ms is not None else "—"
        lines.append(
            f"| {row.size:,} | {row.method} | {build} | {memory} "
            f"| {row.search_ms[0]:.2f} / {row.search_ms[1]:.2f} | {decide} | {cpu} "
            f"| {row.generated_top1:.1%} | {row.real_top1:.1%} | {row.queries} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}; nproc {os.cpu_count()}; Python {platform.python_version()}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--queries", type=int, default=400, help="generated queries per size")
    parser.add_argument(
        "--scan-queries", type=int, default=200, help="queries for rapidfuzz scans at 10,000"
    )
    parser.add_argument(
        "--difflib-queries", type=int, default=30, help="queries for difflib above 1,000"
    )
    parser.add_argument("--seed", type=int, default=20_240_601)
    args = parser.parse_args(argv)
    pinned = "not pinned"
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        pinned = f"pinned to core {core}"
    started = time.perf_counter()
    rows = run(args.sizes, args.queries, args.scan_queries, args.difflib_queries, args.seed)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Machine: {machine()}; {pinned}; load average after the run {load}")
    print(table(rows))
    print(f"\nTotal time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
