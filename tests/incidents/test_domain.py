"""The incident rules on their own: the spike test, clustering, the chosen similarity measure."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from bot.domain.incidents import (
    CLUSTER_THRESHOLD,
    LINK_THRESHOLD,
    MEASURES,
    Observation,
    SpikePolicy,
    baseline_spans,
    format_incident_number,
    judge,
    parse_incident_number,
    place,
    poisson_tail,
    similarity,
)
from bot.services.incidents.signatures import signature
from tests.incidents.labelled import best, labelled_pairs, quality, scored

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert math.isclose(poisson_tail(1, 2.0), 1 - math.exp(-2.0))
    assert math.isclose(poisson_tail(3, 1.0), 1 - math.exp(-1) * (1 + 1 + 0.5))
    assert poisson_tail(5, 0.1) < 1e-7
    assert 0.4 < poisson_tail(30, 30.0) < 0.6
    assert poisson_tail(400, 300.0) < 1e-6  # stays finite for large rates


def test_the_spike_test_weighs_the_count_against_the_usual_rate() -> None:
    policy = SpikePolicy()
    quiet = judge(5, [0, 0, 0, 0], policy)
    assert quiet.alert and quiet.usual_per_hour == 0.1
    assert not judge(4, [0, 0, 0, 0], policy).alert  # below the minimum
    busy = judge(30, [60, 60, 60, 60], policy)  # 30 an hour, 2 hours a week
    assert not busy.alert and busy.usual_per_hour == 30.0 and busy.expected == 30.0
    assert judge(90, [60, 60, 60, 60], policy).alert


def test_the_baseline_is_the_same_time_of_the_four_previous_weeks() -> None:
    spans = baseline_spans(NOW, SpikePolicy())
    assert spans[0] == (NOW - timedelta(days=7, hours=1), NOW - timedelta(days=6, hours=23))
    assert len(spans) == 4 and spans[-1][0] == NOW - timedelta(days=28, hours=1)


def test_clustering_joins_the_most_similar_ticket_of_the_window() -> None:
    window = [
        Observation(1, "payment", NOW, signature("card payment declined at checkout"), 1),
        Observation(2, "payment", NOW, signature("my card is declined on payment"), 1),
        Observation(3, "payment", NOW, signature("charged twice for one order"), 3),
    ]
    joined = place(
        ticket_id=9, at=NOW, signature=signature("card declined when paying"), window=window
    )
    assert (joined.cluster_id, joined.size) == (1, 3)
    alone = place(ticket_id=9, at=NOW, signature=signature("courier never came"), window=window)
    assert (alone.cluster_id, alone.size) == (9, 1)


def test_numbers() -> None:
    assert format_incident_number(12) == "I-000012"
    assert parse_incident_number("I-000012") == parse_incident_number("i-12") == 12
    assert parse_incident_number("C-000012") is None and parse_incident_number("I-0") is None


def test_the_chosen_measure_is_the_best_on_the_labelled_pairs() -> None:
    pairs = labelled_pairs()
    assert len(pairs) > 500 and {p.locale for p in pairs} == {"en", "ru"}
    f1 = {name: best(scored(pairs, scorer)).f1 for name, scorer in MEASURES.items()}
    assert f1["char_3gram_set_cosine"] > max(f1["token_set_ratio"], f1["char_3gram_count_cosine"])
    # The chosen measure is the set cosine on hashed sets: as good, far cheaper.
    assert MEASURES["char_3gram_hashed_cosine"] is similarity
    assert f1["char_3gram_hashed_cosine"] >= f1["char_3gram_set_cosine"] - 0.01
    scores = scored(pairs, similarity)
    cluster = quality(scores, CLUSTER_THRESHOLD)
    assert cluster.precision >= 0.8 and cluster.recall >= 0.65
    assert quality(scores, LINK_THRESHOLD).precision >= 0.95
