"""Text normalisation shared by the index and the queries."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from knowledge_base.stemmer import stem
from knowledge_base.stopwords import stop_words_for

_APOSTROPHES = ("'", "’", "`", "ʼ")
_NON_WORD = re.compile(r"[\W_]+")
# Three or more of the same letter is emphasis ("доставкааа", "pleeease"), never spelling.
_LONG_RUNS = re.compile(r"([^\W\d_])\1{2,}")
# A cheap test for any tripled character, so most texts skip the precise pattern above.
_ANY_RUN = re.compile(r"(.)\1\1")
# Doubled letters are a frequent source of typos ("adress", "програма"), so matching keys
# drop them altogether; both sides go through the same rule.
_DOUBLES = re.compile(r"([^\W\d_])\1+")


@lru_cache(maxsize=65536)
def term_key(word: str) -> str:
    """The key one cleaned word is indexed and looked up under."""
    return _DOUBLES.sub(r"\1", stem(word))


@dataclass(frozen=True, slots=True)
class Term:
    """One word of a normalised text."""

    word: str
    key: str
    stop: bool


class Normaliser:
    """Normalises texts of one locale: case, punctuation, repeats, spacing and synonyms."""

    def __init__(
        self,
        locale: str,
        synonyms: Mapping[str, Sequence[str]] | None = None,
        stop_words: frozenset[str] | None = None,
    ) -> None:
        self.locale = locale
        self.stop_words = stop_words_for(locale) if stop_words is None else stop_words
        self._synonyms: dict[tuple[str, ...], tuple[str, ...]] = {}
        for canonical, variants in (synonyms or {}).items():
            target = tuple(self.clean(canonical).split())
            for variant in variants:
                source = tuple(term_key(word) for word in self.clean(variant).split())
                if source and target and source != tuple(term_key(w) for w in target):
                    self._synonyms[source] = target
        self._longest = max((len(source) for source in self._synonyms), default=0)
        self._first_keys = frozenset(source[0] for source in self._synonyms)
        self._single_word: dict[str, tuple[str, ...]] = {
            source[0]: tuple(term_key(word) for word in target)
            for source, target in self._synonyms.items()
            if len(source) == 1
        }

    @staticmethod
    def clean(text: str) -> str:
        """Lower case, `ё` as `е`, no punctuation, no emphatic repeats, single spaces."""
        text = text.lower().replace("ё", "е")
        for apostrophe in _APOSTROPHES:
            if apostrophe in text:
                text = text.replace(apostrophe, "")
        text = _NON_WORD.sub(" ", text)
        if _ANY_RUN.search(text):
            text = _LONG_RUNS.sub(r"\1", text)
        return text.strip()

    def words(self, text: str) -> list[str]:
        """Cleaned words with synonym variants replaced by their canonical form."""
        return self._words_and_keys(text)[0]

    def keys(self, text: str) -> list[str]:
        """The matching keys of the words of `text`."""
        return self._words_and_keys(text)[1]

    def key_set(self, text: str) -> set[str]:
        """The distinct keys of `text`, with one-word synonyms only: a cheap form for long texts."""
        keys = set(map(term_key, self.clean(text).split()))
        for key in keys & self._single_word.keys():
            keys.discard(key)
            keys.update(self._single_word[key])
        return keys

    def _words_and_keys(self, text: str) -> tuple[list[str], list[str]]:
        words = self.clean(text).split()
        keys = [term_key(word) for word in words]
        if self._first_keys.isdisjoint(keys):
            return words, keys
        first_keys = self._first_keys
        result: list[str] = []
        i = 0
        while i < len(words):
            if keys[i] in first_keys:
                size, target = self._synonym_at(words, keys, i)
                if target is not None:
                    result.extend(target)
                    i += size
                    continue
            result.append(words[i])
            i += 1
        return result, [term_key(word) for word in result]

    def _synonym_at(
        self, words: list[str], keys: list[str], start: int
    ) -> tuple[int, tuple[str, ...] | None]:
        """The longest synonym variant starting at `start`: (its length, canonical words)."""
        for size in range(min(self._longest, len(words) - start), 0, -1):
            if size == 1 and words[start] in self.stop_words:
                # "good" stays a stop word even though "goods" is a variant of "item".
                break
            target = self._synonyms.get(tuple(keys[start : start + size]))
            if target is not None:
                return size, target
        return 1, None

    def normalise(self, text: str) -> str:
        """The normalised text as one string."""
        return " ".join(self.words(text))

    def terms(self, text: str) -> list[Term]:
        """The words of `text` with their matching keys and stop-word flags."""
        stop_words = self.stop_words
        words, keys = self._words_and_keys(text)
        return [Term(w, k, w in stop_words) for w, k in zip(words, keys, strict=True)]
