"""The labelled complaint pairs (same incident or not) and precision / recall of a measure."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import yaml

from bot.domain.incidents import Scorer
from bot.services.incidents.signatures import signature

GROUPS_FILE = Path(__file__).with_name("complaint_groups.yaml")


@dataclass(frozen=True, slots=True)
class Pair:
    left: str
    right: str
    same: bool
    locale: str


def _locale(group_id: str) -> str:
    return group_id.split("-", 1)[0]


def labelled_pairs() -> list[Pair]:
    """Every pair of texts of one category and language: same group = same incident.

    Pairs across categories are left out: detection only compares tickets of one category.
    """
    groups = yaml.safe_load(GROUPS_FILE.read_text(encoding="utf-8"))["groups"]
    texts = [
        (group["id"], group["category"], _locale(group["id"]), text)
        for group in groups
        for text in group["texts"]
    ]
    return [
        Pair(a[3], b[3], a[0] == b[0], a[2])
        for a, b in combinations(texts, 2)
        if a[1] == b[1] and a[2] == b[2]
    ]


@dataclass(frozen=True, slots=True)
class Quality:
    threshold: float
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def scored(pairs: list[Pair], scorer: Scorer) -> list[tuple[float, bool]]:
    return [(scorer(signature(p.left), signature(p.right)), p.same) for p in pairs]


def quality(scores: list[tuple[float, bool]], threshold: float) -> Quality:
    predicted = [same for score, same in scores if score >= threshold]
    true_positive = sum(predicted)
    positives = sum(same for _score, same in scores)
    precision = true_positive / len(predicted) if predicted else 1.0
    recall = true_positive / positives if positives else 1.0
    return Quality(threshold, precision, recall)


def best(scores: list[tuple[float, bool]]) -> Quality:
    """The threshold (in steps of 5) with the best F1."""
    return max((quality(scores, float(t)) for t in range(5, 100, 5)), key=lambda q: q.f1)
