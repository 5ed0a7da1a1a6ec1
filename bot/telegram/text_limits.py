"""Telegram's length limits, measured as Telegram measures them: in UTF-16 code units.

An emoji outside the Basic Multilingual Plane counts as two units, and HTML escaping makes
`<`, `>` and `&` longer, so every text the bot builds around user content is measured here
after escaping, then shortened (`shorten_escaped`) or split (`split_text`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ELLIPSIS = "…"

_BOUNDARIES = (
    re.compile(r"\n\s*\n"),  # paragraphs
    re.compile(r"\n"),  # lines
    re.compile(r"(?<=[.!?…])\s+"),  # sentences
    re.compile(r"\s+"),  # words
)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int, measure: Callable[[str], int] = utf16_len) -> str:
    """The longest prefix of `text` whose measure is at most `limit` (binary search)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def shorten(text: str, limit: int) -> str:
    """Plain `text` cut to at most `limit` UTF-16 units, ending with an ellipsis if cut."""
    if utf16_len(text) <= limit:
        return text
    return _prefix_within(text, limit - utf16_len(ELLIPSIS)).rstrip() + ELLIPSIS


def shorten_line(text: str, limit: int) -> str:
    """Plain `text` as one line (runs of white space, line breaks included, made one space),
    cut like `shorten`: topic names, samples in a list."""
    return shorten(" ".join(text.split()), limit)


def shorten_escaped(text: str, limit: int) -> str:
    """Untrusted plain `text`, HTML-escaped and cut so the escaped form fits `limit` units."""
    escaped = html.escape(text, quote=False)
    if utf16_len(escaped) <= limit:
        return escaped
    budget = limit - utf16_len(ELLIPSIS)
    prefix = _prefix_within(text, budget, lambda part: utf16_len(html.escape(part, quote=False)))
    return html.escape(prefix.rstrip(), quote=False) + ELLIPSIS


def fit_escaped(texts: Sequence[str], budget: int) -> list[str]:
    """Several untrusted plain texts, HTML-escaped so that together they take at most `budget`
    UTF-16 units: those within an even share stay whole, the longest share what is left."""
    escaped = [html.escape(text, quote=False) for text in texts]
    fitted = list(escaped)
    order = sorted(range(len(texts)), key=lambda index: utf16_len(escaped[index]))
    left = max(budget, 0)
    for position, index in enumerate(order):
        share = left // (len(order) - position)
        size = utf16_len(escaped[index])
        if size > share:
            fitted[index] = shorten_escaped(texts[index], max(share, 1))
            size = utf16_len(fitted[index])
        left -= size
    return fitted


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Plain `text` split into parts of at most `limit` UTF-16 units each, at the widest
    boundary that fits: paragraph, then line, sentence, word; a part with no boundary at all
    is cut where the limit falls. A boundary in the first third of the room is passed over
    for a narrower one further on (a short header line does not become a part of its own)
    unless nothing else fits."""
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        window = _prefix_within(rest, limit)
        cut = 0
        for least in (len(window) // 3, 0):
            for boundary in _BOUNDARIES:
                ends = [m.start() for m in boundary.finditer(window) if m.start() > least]
                if ends:
                    cut = ends[-1]
                    break
            if cut:
                break
        if cut == 0:
            cut = len(window)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
