"""Complaint texts reduced to what incident matching compares: their words' matching keys.

The knowledge base's normaliser and stemmer do the work (case, punctuation, emphatic repeats,
word endings, doubled letters); Russian and English stop words are dropped whatever the
customer's language, since customers often write in the other one.
"""

from __future__ import annotations

from knowledge_base.normaliser import Normaliser, term_key
from knowledge_base.stopwords import stop_words_for

SIGNATURE_TEXT_LIMIT = 1000
_STOP_WORDS = stop_words_for("ru") | stop_words_for("en")


def signature(text: str) -> str:
    """The distinct matching keys of the text's content words, in their first order."""
    seen: dict[str, None] = {}
    for word in Normaliser.clean(text[:SIGNATURE_TEXT_LIMIT]).split():
        if word in _STOP_WORDS:
            continue
        seen.setdefault(term_key(word), None)
    return " ".join(seen)
