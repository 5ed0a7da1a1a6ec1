"""The knowledge base facade: entries of every locale, search and answer decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from knowledge_base.errors import KnowledgeBaseError, LoadIssue
from knowledge_base.index import Hit, LocaleIndex, MatchParams
from knowledge_base.loader import find_conflicts, load_dir
from knowledge_base.models import Decision, Entry, Match
from knowledge_base.normaliser import Normaliser

# Tuned on tests/knowledge_base/eval_queries.yaml: at 68 about half of the customer questions
# are answered outright and 97% of those answers are right; no off-topic message comes close.
# Below 40 most matches are accidental.
DEFAULT_ANSWER_THRESHOLD = 68.0
DEFAULT_SUGGEST_THRESHOLD = 40.0
DECISION_MATCHES = 3


class KnowledgeBase:
    """Frequently asked questions of every locale, indexed once for fast matching.

    Instances are read-only after construction, so one can be shared between threads.
    """

    def __init__(
        self,
        entries: Iterable[Entry],
        *,
        synonyms: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        default_locale: str = "ru",
        answer_threshold: float = DEFAULT_ANSWER_THRESHOLD,
        suggest_threshold: float = DEFAULT_SUGGEST_THRESHOLD,
        params: MatchParams | None = None,
    ) -> None:
        if not 0 <= suggest_threshold <= answer_threshold <= 100:
            raise ValueError(
                "thresholds must satisfy 0 <= suggest_threshold <= answer_threshold <= 100, "
                f"got suggest={suggest_threshold}, answer={answer_threshold}"
            )
        by_locale: dict[str, list[Entry]] = {}
        for entry in entries:
            by_locale.setdefault(entry.locale, []).append(entry)
        if default_locale not in by_locale:
            raise KnowledgeBaseError(
                [
                    LoadIssue(
                        "<knowledge base>",
                        None,
                        f"default locale '{default_locale}' has no entries",
                    )
                ]
            )
        # Shared questions are the loader's concern; ids must be unique for lookups to work.
        issues = [
            issue
            for items in by_locale.values()
            for issue in find_conflicts(items, questions=False)
        ]
        if issues:
            raise KnowledgeBaseError(issues)
        self.default_locale = default_locale
        self.answer_threshold = float(answer_threshold)
        self.suggest_threshold = float(suggest_threshold)
        self._indexes: dict[str, LocaleIndex] = {}
        self._by_id: dict[str, dict[str, Entry]] = {}
        for locale in sorted(by_locale):
            normaliser = Normaliser(locale, (synonyms or {}).get(locale))
            self._indexes[locale] = LocaleIndex(by_locale[locale], normaliser, params)
            self._by_id[locale] = {entry.id: entry for entry in by_locale[locale]}

    @classmethod
    def from_dir(
        cls,
        path: str | Path,
        *,
        default_locale: str = "ru",
        answer_threshold: float = DEFAULT_ANSWER_THRESHOLD,
        suggest_threshold: float = DEFAULT_SUGGEST_THRESHOLD,
        params: MatchParams | None = None,
    ) -> KnowledgeBase:
        """Load `<path>/<locale>/*.yaml`; raise `KnowledgeBaseError` listing every problem."""
        data = load_dir(path)
        return cls(
            data.entries,
            synonyms=data.synonyms,
            default_locale=default_locale,
            answer_threshold=answer_threshold,
            suggest_threshold=suggest_threshold,
            params=params,
        )

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self._indexes)

    def resolve_locale(self, locale: str | None) -> str:
        """The loaded locale used for `locale` ("en-US" -> "en"; unknown -> default)."""
        if locale:
            code = locale.strip().lower().replace("_", "-")
            for candidate in (code, code.split("-", 1)[0]):
                if candidate in self._indexes:
                    return candidate
        return self.default_locale

    def entries(self, locale: str | None = None) -> list[Entry]:
        return list(self._indexes[self.resolve_locale(locale)].entries)

    def entry(self, entry_id: str, locale: str | None = None) -> Entry:
        """The entry with `entry_id`; `KeyError` if the locale has no such entry."""
        resolved = self.resolve_locale(locale)
        try:
            return self._by_id[resolved][entry_id]
        except KeyError:
            raise KeyError(f"no entry '{entry_id}' in locale '{resolved}'") from None

    def get(self, entry_id: str, locale: str | None = None) -> Entry | None:
        """The entry with `entry_id`, or None."""
        return self._by_id[self.resolve_locale(locale)].get(entry_id)

    def tags(self, locale: str | None = None) -> list[str]:
        """All tags used in a locale, sorted."""
        index = self._indexes[self.resolve_locale(locale)]
        return sorted({tag for entry in index.entries for tag in entry.tags})

    def search(self, query: str, locale: str | None = None, limit: int = 3) -> list[Match]:
        """Entries matching `query`, best first, with scores 0..100."""
        index = self._indexes[self.resolve_locale(locale)]
        return [self._match(index, hit) for hit in index.search(query, limit)] if limit > 0 else []

    def decide(self, query: str, locale: str | None = None) -> Decision:
        """Answer outright, suggest up to three entries, or admit nothing fits.

        A query with a single meaningful word ("доставка", "refund") is too vague to answer
        outright however well it matches, so it gets suggestions at most.
        """
        index = self._indexes[self.resolve_locale(locale)]
        hits = [
            hit
            for hit in index.search(query, DECISION_MATCHES)
            if hit.score >= self.suggest_threshold
        ]
        if not hits:
            return Decision(kind="none")
        best = hits[0]
        confident = best.score >= self.answer_threshold and best.query_terms >= 2
        return Decision(
            kind="answer" if confident else "suggest",
            matches=tuple(self._match(index, hit) for hit in hits),
        )

    @staticmethod
    def _match(index: LocaleIndex, hit: Hit) -> Match:
        return Match(
            entry=index.entries[hit.entry],
            score=round(min(max(hit.score, 0.0), 100.0), 2),
            question=index.question(hit),
        )
