"""Search index of one locale: a term inverted index plus fuzzy re-ranking.

Retrieval works on term keys (normalised, stemmed words). A query term also matches
vocabulary terms spelled similarly (typos, other word forms), found with rapidfuzz among
the terms that start with the same letter. Candidate entries come from the inverted index,
ranked by the idf-weighted query terms their questions (and, at half weight, answers)
contain; each candidate is then scored from several signals: its best question, how much
of the query all its questions together cover, how much its answer covers, and a rapidfuzz
comparison of the whole normalised texts.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from knowledge_base.layout import switch_layout
from knowledge_base.models import Entry
from knowledge_base.normaliser import Normaliser, term_key


@dataclass(frozen=True, slots=True)
class MatchParams:
    """Tuning knobs of the matcher; the defaults were tuned on the evaluation set."""

    # Share of the question score's denominator taken by the query (the rest: the question).
    query_share: float = 0.5
    # Weights of the entry signals in the final score; they add up to 1.
    question_weight: float = 0.45
    entry_weight: float = 0.15
    answer_weight: float = 0.15
    fuzzy_weight: float = 0.25
    # Weight of stop words relative to an idf weight.
    stop_weight: float = 0.1
    # Minimal Jaro-Winkler similarity for a vocabulary term to stand in for a query term.
    term_cutoff: float = 0.88
    # Terms shorter than this only match exactly.
    fuzzy_min_length: int = 4
    # Similarity factor of look-alike terms when the query term itself is known: "charge"
    # typed on purpose should not count fully as "change".
    known_term_factor: float = 0.75
    # How many similar vocabulary terms one query term may expand to.
    term_variants: int = 5
    # Entries kept for scoring after retrieval.
    candidates: int = 30
    # Longer queries are cut: a pasted essay must not cost more than a question.
    max_query_chars: int = 300
    # Answer terms used to find candidates only when this rare (entries containing them).
    answer_df_limit: int = 50


@dataclass(frozen=True, slots=True)
class Hit:
    """A scored entry of one locale index."""

    entry: int
    question: int
    score: float
    # Distinct query terms found in the vocabulary; one word is too vague to answer outright.
    query_terms: int


_Variants = list[tuple[int, float]]


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

    def _term_ids(self, text: str, vocab: dict[str, int]) -> tuple[list[int], list[str], int]:
        """Content term ids (new terms added to `vocab`), content keys, stop-word count."""
        stop_keys = self._stop_keys
        ids: list[int] = []
        content: list[str] = []
        stops: set[str] = set()
        for key in self.normaliser.keys(text):
            if key in stop_keys:
                stops.add(key)
                continue
            content.append(key)
            term_id = vocab.get(key)
            if term_id is None:
                term_id = vocab[key] = len(vocab)
            ids.append(term_id)
        return ids, content, len(stops)

    def _answer_term_ids(self, answer: str, vocab: dict[str, int]) -> frozenset[int]:
        # Answers are long: the cheaper key set keeps the build of a large base fast.
        ids: set[int] = set()
        for key in self.normaliser.key_set(answer) - self._stop_keys:
            term_id = vocab.get(key)
            if term_id is None:
                term_id = vocab[key] = len(vocab)
            ids.add(term_id)
        return frozenset(ids)

    def _build(self) -> None:
        vocab: dict[str, int] = {}
        question_entry: list[int] = []
        first_question: list[int] = []
        question_text: list[str] = []
        question_terms: list[tuple[int, ...]] = []
        question_stops: list[int] = []
        entry_terms: list[frozenset[int]] = []
        answer_terms: list[frozenset[int]] = []
        for entry_no, entry in enumerate(self.entries):
            first_question.append(len(question_entry))
            in_questions: set[int] = set()
            for question in entry.questions:
                ids, content, stops = self._term_ids(question, vocab)
                unique = tuple(dict.fromkeys(ids))
                in_questions.update(unique)
                question_entry.append(entry_no)
                question_text.append(" ".join(content))
                question_terms.append(unique)
                question_stops.append(stops)
            entry_terms.append(frozenset(in_questions))
            answer_terms.append(self._answer_term_ids(entry.answer, vocab))

        size = len(vocab)
        df = [0] * size
        entry_postings: list[list[int]] = [[] for _ in range(size)]
        answer_postings: list[list[int]] = [[] for _ in range(size)]
        for entry_no, (asked, answered) in enumerate(zip(entry_terms, answer_terms, strict=True)):
            for term_id in asked | answered:
                df[term_id] += 1
            for term_id in asked:
                entry_postings[term_id].append(entry_no)
            for term_id in answered:
                answer_postings[term_id].append(entry_no)

        total = max(len(self.entries), 1)
        idf = [math.log(1.0 + total / count) for count in df]
        stop_weight = self.params.stop_weight
        self._idf = idf
        self._unknown_idf = math.log(1.0 + total)
        self._question_weight = [
            sum(idf[t] for t in terms) + stop_weight * stops
            for terms, stops in zip(question_terms, question_stops, strict=True)
        ]
        self._vocab = vocab
        # Tuples: smaller than lists, and not tracked by the garbage collector once scanned.
        self._entry_postings = [tuple(entries) for entries in entry_postings]
        self._question_terms = question_terms
        self._answer_postings = [tuple(entries) for entries in answer_postings]
        self._question_entry = question_entry
        self._first_question = first_question
        self._question_text = question_text
        self._answer_terms = answer_terms
        by_letter: dict[str, list[str]] = {}
        for key in vocab:
            by_letter.setdefault(key[0], []).append(key)
        self._by_letter = by_letter

    def _variants(self, key: str) -> _Variants:
        """Vocabulary terms standing in for a query term, with similarity 0..1."""
        params = self.params
        exact = self._vocab.get(key)
        found: _Variants = [] if exact is None else [(exact, 1.0)]
        if len(key) < params.fuzzy_min_length:
            return found
        similar = process.extract(
            key,
            self._by_letter.get(key[0], ()),
            scorer=JaroWinkler.normalized_similarity,
            score_cutoff=params.term_cutoff,
            limit=params.term_variants + 1,
        )
        factor = 1.0 if exact is None else params.known_term_factor
        for other, score, _ in similar:
            if other != key and len(other) >= params.fuzzy_min_length:
                found.append((self._vocab[other], score * factor))
        return found

    def search(self, query: str, limit: int) -> list[Hit]:
        """Best entries for `query`, at most `limit`, best first."""
        params = self.params
        keys = self._query_keys(query[: params.max_query_chars])
        content = [key for key in keys if key not in self._stop_keys]
        if not content:
            return []
        query_weight = params.stop_weight * (len(keys) - len(content))
        expanded: list[tuple[float, dict[int, float]]] = []
        for key in content:
            variants = self._variants(key)
            if not variants:
                query_weight += self._unknown_idf
                continue
            weight = self._idf[variants[0][0]]
            query_weight += weight
            expanded.append((weight, dict(variants)))
        if not expanded:
            return []
        candidates = self._candidates(expanded)
        return self._rank(" ".join(content), candidates, expanded, query_weight, limit)

    def _query_keys(self, text: str) -> list[str]:
        """Distinct keys of the query, retyped first if it was typed in the wrong layout."""
        keys = list(dict.fromkeys(self.normaliser.keys(text)))
        switched = switch_layout(text, self.normaliser.locale)
        if switched is not None:
            other = list(dict.fromkeys(self.normaliser.keys(switched)))
            if self._known(other) > self._known(keys):
                return other
        return keys

    def _known(self, keys: list[str]) -> int:
        return sum(key in self._vocab and key not in self._stop_keys for key in keys)

    def _candidates(self, expanded: list[tuple[float, dict[int, float]]]) -> list[int]:
        """Entries sharing the most query weight in their questions (answers count half)."""
        params = self.params
        scores: dict[int, float] = {}
        for weight, variants in expanded:
            for postings, factor in ((self._entry_postings, 1.0), (self._answer_postings, 0.5)):
                gain = weight * factor
                if len(variants) == 1:
                    # The common case: one known term, no look-alikes to reconcile.
                    ((term_id, similarity),) = variants.items()
                    entries = postings[term_id]
                    if factor == 1.0 or len(entries) <= params.answer_df_limit:
                        gain *= similarity
                        for entry in entries:
                            scores[entry] = scores.get(entry, 0.0) + gain
                    continue
                best: dict[int, float] = {}
                for term_id, similarity in variants.items():
                    entries = postings[term_id]
                    if factor < 1.0 and len(entries) > params.answer_df_limit:
                        continue
                    for entry in entries:
                        if best.get(entry, 0.0) < similarity:
                            best[entry] = similarity
                for entry, similarity in best.items():
                    scores[entry] = scores.get(entry, 0.0) + gain * similarity
        top = heapq.nlargest(params.candidates, scores.items(), key=itemgetter(1))
        return [entry for entry, _ in top]

    def _rank(
        self,
        text: str,
        candidates: list[int],
        expanded: list[tuple[float, dict[int, float]]],
        query_weight: float,
        limit: int,
    ) -> list[Hit]:
        params = self.params
        choices = {
            question: self._question_text[question]
            for entry in candidates
            for question in self._questions_of(entry)
        }
        fuzzy = {
            question: score
            for _, score, question in process.extract(
                text, choices, scorer=fuzz.token_sort_ratio, limit=None
            )
        }
        # vocabulary term -> [(position of the query term, its weight * similarity)]
        gains: dict[int, list[tuple[int, float]]] = {}
        for position, (weight, variants) in enumerate(expanded):
            for term_id, similarity in variants.items():
                gains.setdefault(term_id, []).append((position, weight * similarity))
        hits: list[Hit] = []
        for entry in candidates:
            question, question_score, entry_match = self._question_signals(
                entry, gains, len(expanded), query_weight
            )
            answer_match = self._answer_match(entry, expanded)
            fuzzy_score = max(fuzzy[q] for q in self._questions_of(entry))
            score = (
                100.0
                * (
                    params.question_weight * min(question_score, 1.0)
                    + params.entry_weight * entry_match / query_weight
                    + params.answer_weight * answer_match / query_weight
                )
                + params.fuzzy_weight * fuzzy_score
            )
            hits.append(Hit(entry, question, score, len(expanded)))
        hits.sort(key=lambda hit: -hit.score)
        return hits[:limit]

    def _questions_of(self, entry: int) -> range:
        first = self._first_question[entry]
        return range(first, first + len(self.entries[entry].questions))

    def _question_signals(
        self,
        entry: int,
        gains: dict[int, list[tuple[int, float]]],
        terms: int,
        query_weight: float,
    ) -> tuple[int, float, float]:
        """The best question with its score, and the query weight all questions cover."""
        base = self.params.query_share * query_weight
        rest = 1.0 - self.params.query_share
        covered = [0.0] * terms
        best_question, best_score = self._first_question[entry], -1.0
        for question in self._questions_of(entry):
            matched = [0.0] * terms
            for term_id in self._question_terms[question]:
                for position, gain in gains.get(term_id, ()):
                    if matched[position] < gain:
                        matched[position] = gain
            score = sum(matched) / (base + rest * self._question_weight[question])
            if score > best_score:
                best_question, best_score = question, score
            covered = [max(a, b) for a, b in zip(covered, matched, strict=True)]
        return best_question, best_score, sum(covered)

    def _answer_match(self, entry: int, expanded: list[tuple[float, dict[int, float]]]) -> float:
        answer = self._answer_terms[entry]
        return sum(
            max((weight * sim for term_id, sim in variants.items() if term_id in answer), default=0)
            for weight, variants in expanded
        )

    def question(self, hit: Hit) -> str:
        """The original text of the question a hit was matched on."""
        first = self._first_question[hit.entry]
        return self.entries[hit.entry].questions[hit.question - first]
