"""A deliberately light suffix stripper.

Matching only needs different forms of one word ("доставка", "доставки", "доставкой") to
meet on the same key; both the data and the queries go through the same function, so an
occasional odd stem costs nothing. Fuzzy matching of terms covers what this misses.
"""

from __future__ import annotations

_MIN_STEM = 3

_RU_REFLEXIVE = ("ся", "сь")
_RU_ENDING_WORDS = """
        иями ями ами иях ях ах ов ев ей ой ый ий ая яя ое ее ые ие ом ем ым им ую юю ого его
        ому ему их ых ешь ете ишь ите ет ит ут ют ат ят ть ти ать ять ить еть уть ыть ала ало
        али ила ило или ела ело ели ал ил ел ла ло ли л а я о е ы и у ю ь ей ий ия ие ью ью
        ность ости ость ние ния нию ением ении ение
"""
_RU_ENDINGS: tuple[str, ...] = tuple(sorted(set(_RU_ENDING_WORDS.split()), key=len, reverse=True))
_EN_ENDINGS: tuple[str, ...] = ("ing", "ies", "ied", "ed", "es", "ly", "s", "e", "y")


def _strip(word: str, endings: tuple[str, ...]) -> str:
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


def _is_cyrillic(word: str) -> bool:
    return "а" <= word[0] <= "я"


def stem(word: str) -> str:
    """Return the matching key of one normalised word (any supported language)."""
    if len(word) <= _MIN_STEM or word.isdigit():
        return word
    if _is_cyrillic(word):
        for ending in _RU_REFLEXIVE:
            if word.endswith(ending) and len(word) - 2 >= _MIN_STEM:
                word = word[:-2]
                break
        return _strip(word, _RU_ENDINGS)
    if word.endswith("ss"):
        return word
    return _strip(word, _EN_ENDINGS)
