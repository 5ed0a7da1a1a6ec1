"""Search index of one locale: a term inverted index plus fuzzy re-ranking.

Retrieval works on term keys (normalised, stemmed words). A query term also matches
vocabulary terms that are spelled similarly (typos, other word forms), found with
rapidfuzz among the terms that start with the same letter. Questions are scored by the
idf-weighted share of query and question terms they have in common; the best candidates
are then re-ranked with a rapidfuzz comparison of the whole normalised texts.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz, process

from knowledge_base.models import Entry
from knowledge_base.normaliser import Normaliser, term_key


@dataclass(frozen=True, slots=True)
class MatchParams:
    """Tuning knobs of the matcher; the defaults were tuned on the evaluation set."""

    # Share of the denominator taken by the query's weight (the rest: the question's).
    query_share: float = 0.6
    # Weight of the retrieval score in the final score (the rest: rapidfuzz similarity).
    retrieval_share: float = 0.6
    # Weight of stop words relative to an idf weight.
    stop_weight: float = 0.1
    # Minimal rapidfuzz ratio for a vocabulary term to stand in for a query term.
    term_cutoff: float = 78.0
    # Terms shorter than this only match exactly.
    fuzzy_min_length: int = 4
    # How many similar vocabulary terms one query term may expand to.
    term_variants: int = 5
    # Questions kept after retrieval, before re-ranking.
    candidates: int = 40
    # Questions pre-selected by raw overlap before the exact retrieval score is computed.
    preselect: int = 300


@dataclass(frozen=True, slots=True)
class Hit:
    """A scored entry of one locale index."""

    entry: int
    question: int
    score: float


class LocaleIndex:
    """Everything needed to search the entries of one locale, built once."""

    def __init__(
        self,
        entries: Sequence[Entry],
        normaliser: Normaliser,
        params: MatchParams | None = None,
    ) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.normaliser = normaliser
        self.params = params or MatchParams()
        self._stop_keys = frozenset(term_key(word) for word in normaliser.stop_words)
        self._build()

    def _build(self) -> None:
        stop_keys = self._stop_keys
        vocab: dict[str, int] = {}
        postings: list[list[int]] = []
        entry_df: list[int] = []
        question_entry: list[int] = []
        first_question: list[int] = []
        question_text: list[str] = []
        question_terms: list[tuple[int, ...]] = []
        question_stops: list[frozenset[str]] = []
        for entry_no, entry in enumerate(self.entries):
            seen_in_entry: set[int] = set()
            first_question.append(len(question_entry))
            for question in entry.questions:
                question_no = len(question_entry)
                keys = [term.key for term in self.normaliser.terms(question)]
                content = [key for key in keys if key not in stop_keys]
                term_ids: list[int] = []
                for key in dict.fromkeys(content):
                    term_id = vocab.get(key)
                    if term_id is None:
                        term_id = vocab[key] = len(postings)
                        postings.append([])
                        entry_df.append(0)
                    postings[term_id].append(question_no)
                    term_ids.append(term_id)
                    if term_id not in seen_in_entry:
                        seen_in_entry.add(term_id)
                        entry_df[term_id] += 1
                question_entry.append(entry_no)
                question_text.append(" ".join(content))
                question_terms.append(tuple(term_ids))
                question_stops.append(frozenset(key for key in keys if key in stop_keys))

        total = max(len(self.entries), 1)
        self._idf = [math.log(1.0 + total / df) for df in entry_df]
        self._unknown_idf = math.log(1.0 + total)
        stop_weight = self.params.stop_weight
        self._question_weight = [
            sum(self._idf[t] for t in terms) + stop_weight * len(stops)
            for terms, stops in zip(question_terms, question_stops, strict=True)
        ]
        self._vocab = vocab
        self._postings = postings
        self._question_entry = question_entry
        self._first_question = first_question
        self._question_text = question_text
        self._question_stops = question_stops
        by_letter: dict[str, list[str]] = {}
        for key in vocab:
            by_letter.setdefault(key[0], []).append(key)
        self._by_letter = by_letter

    def _variants(self, key: str) -> list[tuple[int, float]]:
        """Vocabulary terms standing in for a query term, with similarity 0..1."""
        params = self.params
        exact = self._vocab.get(key)
        found: list[tuple[int, float]] = [] if exact is None else [(exact, 1.0)]
        if len(key) < params.fuzzy_min_length:
            return found
        similar = process.extract(
            key,
            self._by_letter.get(key[0], ()),
            scorer=fuzz.ratio,
            score_cutoff=params.term_cutoff,
            limit=params.term_variants + 1,
        )
        for other, score, _ in similar:
            if other != key:
                found.append((self._vocab[other], score / 100.0))
        return found

    def search(self, query: str, limit: int) -> list[Hit]:
        """Best entries for `query`, at most `limit`, best first."""
        params = self.params
        terms = self.normaliser.terms(query)
        stop_keys = self._stop_keys
        keys = list(dict.fromkeys(term.key for term in terms))
        content = [key for key in keys if key not in stop_keys]
        if not content:
            return []
        query_stops = frozenset(key for key in keys if key in stop_keys)

        overlap: dict[int, float] = {}
        query_weight = params.stop_weight * len(query_stops)
        postings = self._postings
        for key in content:
            variants = self._variants(key)
            if not variants:
                query_weight += self._unknown_idf
                continue
            weight = self._idf[variants[0][0]]
            query_weight += weight
            if len(variants) == 1 and variants[0][1] == 1.0:
                for question in postings[variants[0][0]]:
                    overlap[question] = overlap.get(question, 0.0) + weight
                continue
            best: dict[int, float] = {}
            for term_id, similarity in variants:
                for question in postings[term_id]:
                    if best.get(question, 0.0) < similarity:
                        best[question] = similarity
            for question, similarity in best.items():
                overlap[question] = overlap.get(question, 0.0) + weight * similarity
        if not overlap:
            return []

        pool = overlap.items()
        if len(overlap) > params.preselect:
            pool = heapq.nlargest(params.preselect, pool, key=itemgetter(1))  # type: ignore[assignment]
        share = params.query_share
        base = share * query_weight
        rest = 1.0 - share
        weights = self._question_weight
        question_stops = self._question_stops
        stop_weight = params.stop_weight
        scored = []
        for question, matched in pool:
            if query_stops:
                matched += stop_weight * len(query_stops & question_stops[question])
            scored.append((matched / (base + rest * weights[question]), question))
        top = heapq.nlargest(params.candidates, scored)
        return self._rerank(" ".join(content), top, limit)

    def _rerank(self, text: str, top: list[tuple[float, int]], limit: int) -> list[Hit]:
        params = self.params
        choices = {question: self._question_text[question] for _, question in top}
        fuzzy = {
            question: score
            for _, score, question in process.extract(
                text, choices, scorer=fuzz.token_sort_ratio, limit=None
            )
        }
        share = params.retrieval_share
        best: dict[int, Hit] = {}
        for retrieval, question in top:
            score = 100.0 * share * min(retrieval, 1.0) + (1.0 - share) * fuzzy[question]
            entry = self._question_entry[question]
            current = best.get(entry)
            if current is None or current.score < score:
                best[entry] = Hit(entry, question, score)
        return sorted(best.values(), key=lambda hit: -hit.score)[:limit]

    def question(self, hit: Hit) -> str:
        """The original text of the question a hit was matched on."""
        return self.entries[hit.entry].questions[hit.question - self._first_question[hit.entry]]
