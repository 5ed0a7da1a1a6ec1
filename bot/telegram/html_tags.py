"""Telegram's HTML subset: the tags it accepts and the entity each simple tag makes.

One table for the bot, which measures and splits its HTML (`bot.telegram.html_text`), and for
the offline Bot API, which parses it as Telegram does.
"""

from __future__ import annotations

SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
#: The others carry attributes: a link, a custom emoji, a (possibly expandable) quotation.
TAGS = frozenset({*SIMPLE_TAGS, "a", "tg-emoji", "blockquote"})
