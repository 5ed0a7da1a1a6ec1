"""Text typed with the wrong keyboard layout ("ljcnfdrf" for "доставка")."""

from __future__ import annotations

_LATIN = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_CYRILLIC = "йцукенгшщзхъфывапролджэячсмитьбюё"
_TO_CYRILLIC = str.maketrans(_LATIN + _LATIN.upper(), _CYRILLIC + _CYRILLIC.upper())
_TO_LATIN = str.maketrans(_CYRILLIC + _CYRILLIC.upper(), _LATIN + _LATIN.upper())
_SCRIPTS = {"ru": (_TO_CYRILLIC, "abcdefghijklmnopqrstuvwxyz"), "en": (_TO_LATIN, _CYRILLIC)}


def switch_layout(text: str, locale: str) -> str | None:
    """`text` retyped in the locale's layout, or None when it is not in the other one."""
    if locale not in _SCRIPTS:
        return None
    table, other_letters = _SCRIPTS[locale]
    letters = [char for char in text.lower() if char.isalpha()]
    if not letters or any(char not in other_letters for char in letters):
        return None
    return text.translate(table)
