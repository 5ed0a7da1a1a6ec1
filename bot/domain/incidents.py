"""Mass incidents as a rule: which complaints are "the same", and when a group of them is a spike.

Pure: texts arrive already reduced to *signatures* (the matching keys of their words, stop
words dropped, as the knowledge base's normaliser and stemmer make them; the service does
that), times are given, nothing is read or stored here.

Similarity (0-100) is the cosine of the two signatures' sets of character 3-grams, each set
hashed into a 4,096-bit mask. On the labelled pairs of `tests/incidents/complaint_groups.yaml`
the 3-gram set cosine measured better than rapidfuzz's token-set ratio and than the cosine of
3-gram counts, and hashing the sets costs it nothing measurable there (precision and recall of
all four in `docs/benchmarks.md`) while a pair costs two integer operations.

Clustering is single-link within the recent window: a new ticket joins the cluster of the
most similar ticket of the same category seen in the window when that similarity reaches the
cluster threshold, otherwise it starts a cluster of its own.

Spike test: a cluster of `n` tickets within the window raises an alert when `n` reaches the
minimum AND `P(X >= n)` is below `p_threshold` for `X ~ Poisson(mu)`, where `mu` is the
category's usual number of tickets in a window of that length at this time of the week: the
category's tickets in the same stretch (the window on either side of the same moment) in each
of the trailing four weeks, averaged and scaled to the window, never below a small floor. The
whole category's rate is used (not only similar tickets'), so a busy category needs a far
larger burst, and a category with a steady high volume never alerts.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum, nonmember
from functools import lru_cache

from rapidfuzz import fuzz

WEEK = timedelta(days=7)
# Per-hour rate assumed for a category without history: five tickets in an hour against it
# have a tail probability of about 1e-7, so a quiet category alerts on its first burst.
MIN_HOURLY_RATE = 0.1
# Tuned on the labelled pairs (see docs/benchmarks.md): a ticket joins a cluster from
# CLUSTER_THRESHOLD, is linked to an open incident from LINK_THRESHOLD and suggested from
# SUGGEST_THRESHOLD.
CLUSTER_THRESHOLD = 22.0
LINK_THRESHOLD = 35.0
SUGGEST_THRESHOLD = 25.0
MASK_BITS = 4096

Scorer = Callable[[str, str], float]


def token_set_similarity(left: str, right: str) -> float:
    """rapidfuzz's token-set ratio of two signatures (0-100)."""
    if not left or not right:
        return 0.0
    return float(fuzz.token_set_ratio(left, right))


def _ngrams(text: str, size: int = 3) -> Counter[str]:
    padded = f" {text} "
    return Counter(padded[i : i + size] for i in range(max(len(padded) - size + 1, 0)))


def char_ngram_cosine(left: str, right: str) -> float:
    """Cosine of the character 3-gram count vectors of two signatures (0-100)."""
    a, b = _ngrams(left), _ngrams(right)
    if not a or not b:
        return 0.0
    dot = sum(count * b[gram] for gram, count in a.items() if gram in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return 100.0 * dot / norm if norm else 0.0


@lru_cache(maxsize=65536)
def trigrams(signature: str) -> frozenset[str]:
    """The character 3-grams of a signature (padded, so word starts and ends count)."""
    padded = f" {signature} "
    return (
        frozenset(padded[i : i + 3] for i in range(len(padded) - 2)) if signature else frozenset()
    )


def trigram_cosine(left: str, right: str) -> float:
    """Cosine of the two signatures' 3-gram sets (0-100)."""
    return _set_cosine(trigrams(left), trigrams(right))


def _set_cosine(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 100.0 * len(a & b) / math.sqrt(len(a) * len(b))


@dataclass(frozen=True, slots=True)
class _Profile:
    grams: frozenset[str]
    norm: float  # 1 / sqrt(len(grams))
    mask: int  # the grams hashed into MASK_BITS bits: a cheap first pass
    mask_norm: float


@lru_cache(maxsize=65536)
def _profile(signature: str) -> _Profile:
    grams = trigrams(signature)
    mask = 0
    for gram in grams:
        mask |= 1 << (zlib.crc32(gram.encode()) % MASK_BITS)
    bits = mask.bit_count()
    return _Profile(
        grams,
        1 / math.sqrt(len(grams)) if grams else 0.0,
        mask,
        1 / math.sqrt(bits) if bits else 0.0,
    )


def hashed_trigrams(signature: str) -> tuple[int, float]:
    """The signature's 3-grams hashed into a `MASK_BITS`-bit mask, and 1 / sqrt(its bits)
    (0.0 for an empty signature): what `hashed_trigram_cosine` compares."""
    profile = _profile(signature)
    return profile.mask, profile.mask_norm


def hashed_trigram_cosine(left: str, right: str) -> float:
    """The chosen measure: the 3-gram set cosine on the sets hashed into `MASK_BITS` bits
    (0-100). It measures as well as the exact set cosine on the labelled pairs and costs two
    integer operations per pair."""
    a, b = _profile(left), _profile(right)
    if not a.mask or not b.mask:
        return 0.0
    return 100.0 * (a.mask & b.mask).bit_count() * a.mask_norm * b.mask_norm


def best_match(
    signature: str, candidates: Sequence[str], *, threshold: float
) -> tuple[int, float] | None:
    """Index and score (`similarity`) of the candidate most similar to `signature`, if one
    reaches `threshold`: one pass of integer operations over the candidates' cached masks."""
    query = _profile(signature)
    if not query.mask or not candidates:
        return None
    qmask = query.mask
    scores = [(qmask & p.mask).bit_count() * p.mask_norm for p in map(_profile, candidates)]
    index = max(range(len(scores)), key=scores.__getitem__)
    score = 100.0 * scores[index] * query.mask_norm
    return (index, score) if score >= threshold else None


MEASURES: dict[str, Scorer] = {
    "token_set_ratio": token_set_similarity,
    "char_3gram_count_cosine": char_ngram_cosine,
    "char_3gram_set_cosine": trigram_cosine,
    "char_3gram_hashed_cosine": hashed_trigram_cosine,
}
similarity = hashed_trigram_cosine


@dataclass(frozen=True, slots=True)
class Observation:
    """A ticket as detection sees it."""

    ticket_id: int
    category: str
    at: datetime
    signature: str
    cluster_id: int


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new ticket goes: its cluster and how many of the window's tickets share it."""

    cluster_id: int
    size: int
    first_at: datetime
    similarity: float  # to the closest ticket of the cluster; 100 for a new cluster


def place(
    *,
    ticket_id: int,
    at: datetime,
    signature: str,
    window: Sequence[Observation],
    threshold: float = CLUSTER_THRESHOLD,
) -> Placement:
    """Cluster a new ticket among the window's tickets of its category (single link)."""
    match = best_match(signature, [o.signature for o in window], threshold=threshold)
    if match is None:
        return alone(ticket_id, at)
    index, score = match
    cluster = window[index].cluster_id
    members = [o.at for o in window if o.cluster_id == cluster]
    return Placement(
        cluster_id=cluster, size=len(members) + 1, first_at=min([*members, at]), similarity=score
    )


def alone(ticket_id: int, at: datetime) -> Placement:
    """A ticket like none of the window's: a cluster of its own."""
    return Placement(cluster_id=ticket_id, size=1, first_at=at, similarity=100.0)


@dataclass(frozen=True, slots=True)
class SpikePolicy:
    window: timedelta = timedelta(minutes=60)
    min_tickets: int = 5
    p_threshold: float = 0.001
    weeks: int = 4
    min_hourly_rate: float = MIN_HOURLY_RATE


def baseline_spans(now: datetime, policy: SpikePolicy) -> list[tuple[datetime, datetime]]:
    """The stretches of the trailing weeks whose tickets make the usual rate: the window on
    either side of the same moment of the week, one per week."""
    return [
        (now - k * WEEK - policy.window, now - k * WEEK + policy.window)
        for k in range(1, policy.weeks + 1)
    ]


def usual_hourly_rate(counts: Iterable[int], policy: SpikePolicy) -> float:
    """Tickets per hour of the category at this time of the week (from `baseline_spans`)."""
    counts = list(counts)
    hours = len(counts) * 2 * policy.window.total_seconds() / 3600
    rate = sum(counts) / hours if hours else 0.0
    return max(rate, policy.min_hourly_rate)


def poisson_tail(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    # 1 - P(X <= k-1), summed in log space to stay finite for large mu.
    term = -mu  # log P(X = 0)
    below = math.exp(term)
    for i in range(1, k):
        term += math.log(mu) - math.log(i)
        below += math.exp(term)
    return max(0.0, 1.0 - below)


@dataclass(frozen=True, slots=True)
class SpikeVerdict:
    alert: bool
    count: int
    usual_per_hour: float
    expected: float  # in one window
    p_value: float


def judge(count: int, baseline_counts: Iterable[int], policy: SpikePolicy) -> SpikeVerdict:
    """Is a cluster of `count` tickets within the window improbable for its category?"""
    rate = usual_hourly_rate(baseline_counts, policy)
    expected = rate * policy.window.total_seconds() / 3600
    p_value = poisson_tail(count, expected)
    alert = count >= policy.min_tickets and p_value < policy.p_threshold
    return SpikeVerdict(alert, count, rate, expected, p_value)


def is_calm(last_ticket_at: datetime, now: datetime, policy: SpikePolicy) -> bool:
    """A cluster has calmed down when a whole window passed without a new ticket in it."""
    return now - last_ticket_at >= policy.window


def format_incident_number(sequence_value: int) -> str:
    if sequence_value <= 0:
        raise ValueError("incident sequence starts at 1")
    return f"I-{sequence_value:06d}"


def parse_incident_number(text: str) -> int | None:
    """The sequence value of `I-000012` (also `i-12`, `12`), or None."""
    value = text.strip().upper()
    if value.startswith("I-"):
        value = value[2:]
    return int(value) if value.isdigit() and int(value) > 0 else None


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    ORDER = nonmember((INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED))
    OPEN = nonmember(frozenset({INVESTIGATING, IDENTIFIED, MONITORING}))
