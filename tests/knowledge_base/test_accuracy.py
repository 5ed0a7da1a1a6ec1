"""Matching quality on labelled customer queries (tests/knowledge_base/eval_queries.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process, utils

from knowledge_base import KnowledgeBase

ROOT = Path(__file__).resolve().parents[2]
EVAL_FILE = Path(__file__).with_name("eval_queries.yaml")
OFF_TOPIC = "_offtopic"


def _load_eval() -> dict[str, dict[str, list[str]]]:
    raw = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))
    return {
        locale: {key: [str(query) for query in queries] for key, queries in groups.items()}
        for locale, groups in raw.items()
    }


EVAL = _load_eval()
LABELLED = [
    (locale, query, entry_id)
    for locale, groups in EVAL.items()
    for entry_id, queries in groups.items()
    if entry_id != OFF_TOPIC
    for query in queries
]
OFF_TOPIC_QUERIES = [
    (locale, query) for locale, groups in EVAL.items() for query in groups[OFF_TOPIC]
]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_dir(ROOT / "knowledge_base" / "data")


def test_eval_set_is_big_enough_and_labels_exist(kb: KnowledgeBase) -> None:
    assert len(LABELLED) >= 320
    assert len(OFF_TOPIC_QUERIES) >= 90
    for locale in ("ru", "en"):
        share = sum(1 for item in LABELLED if item[0] == locale) / len(LABELLED)
        assert 0.4 <= share <= 0.6
    for locale, _, entry_id in LABELLED:
        assert kb.get(entry_id, locale) is not None, entry_id


def test_eval_queries_are_not_copies_of_the_data(kb: KnowledgeBase) -> None:
    def clean(text: str) -> str:
        return " ".join(kb._indexes["ru"].normaliser.clean(text).split())

    questions = {clean(q) for locale in kb.locales for e in kb.entries(locale) for q in e.questions}
    copies = [query for _, query, _ in LABELLED if clean(query) in questions]
    assert copies == []


def test_top1_and_top3_accuracy(kb: KnowledgeBase) -> None:
    top1 = top3 = 0
    misses: list[str] = []
    for locale, query, expected in LABELLED:
        found = [match.entry_id for match in kb.search(query, locale=locale, limit=3)]
        top1 += found[:1] == [expected]
        top3 += expected in found
        if found[:1] != [expected]:
            misses.append(f"[{locale}] {query!r}: expected {expected}, got {found}")
    total = len(LABELLED)
    report = f"top-1 {top1 / total:.3f}, top-3 {top3 / total:.3f} on {total} queries; misses:\n"
    report += "\n".join(misses)
    print(report)
    assert top1 / total >= 0.90, report
    assert top3 / total >= 0.97, report


def test_off_topic_is_never_answered(kb: KnowledgeBase) -> None:
    answered = [
        f"[{locale}] {query!r} -> {decision.matches[0].entry_id} {decision.matches[0].score}"
        for locale, query in OFF_TOPIC_QUERIES
        if (decision := kb.decide(query, locale=locale)).kind == "answer"
    ]
    assert answered == [], "\n".join(answered)


def test_beats_a_plain_rapidfuzz_scan(kb: KnowledgeBase) -> None:
    ours = sum(
        [m.entry_id for m in kb.search(query, locale=locale, limit=1)] == [expected]
        for locale, query, expected in LABELLED
    )
    best_plain = 0
    for scorer in (fuzz.WRatio, fuzz.token_set_ratio, fuzz.token_sort_ratio):
        correct = 0
        for locale, query, expected in LABELLED:
            pairs = [(q, e.id) for e in kb.entries(locale) for q in e.questions]
            best = process.extractOne(
                query, [q for q, _ in pairs], scorer=scorer, processor=utils.default_process
            )
            correct += best is not None and pairs[best[2]][1] == expected
        best_plain = max(best_plain, correct)
    print(f"ours {ours}, best plain rapidfuzz scan {best_plain} of {len(LABELLED)}")
    assert ours >= best_plain
