"""Checks that an answer is valid Telegram HTML (the subset the Bot API accepts)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

TELEGRAM_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
    }
)
_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
_AMPERSAND = re.compile(r"&(?:(#\d+|#x[0-9a-f]+|[a-z]+);)?", re.IGNORECASE)
MAX_MESSAGE_LENGTH = 4096


class _TelegramHtmlChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"tag <{tag}> is not allowed in Telegram HTML")
            return
        values = dict(attrs)
        if tag == "a" and not (values.get("href") or "").strip():
            self.problems.append("<a> needs a non-empty href")
        if tag == "span" and values.get("class") != "tg-spoiler":
            self.problems.append('<span> is only allowed as <span class="tg-spoiler">')
        self.open_tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/> is not allowed in Telegram HTML")

    def handle_endtag(self, tag: str) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"tag </{tag}> is not allowed in Telegram HTML")
        elif not self.open_tags:
            self.problems.append(f"</{tag}> has no opening tag")
        elif self.open_tags[-1] != tag:
            self.problems.append(f"</{tag}> does not match the open <{self.open_tags[-1]}>")
            if tag in self.open_tags:
                del self.open_tags[len(self.open_tags) - 1 - self.open_tags[::-1].index(tag) :]
        else:
            self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self.problems.append("unescaped '<' (write &lt;)")

    def handle_comment(self, data: str) -> None:
        self.problems.append("HTML comments are not allowed")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declarations are not allowed")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("declarations are not allowed")

    def handle_pi(self, data: str) -> None:
        self.problems.append("processing instructions are not allowed")


def check_telegram_html(text: str) -> list[str]:
    """Return the problems that would make Telegram reject `text`; empty when it is valid."""
    problems: list[str] = []
    if len(text) > MAX_MESSAGE_LENGTH:
        problems.append(f"answer is {len(text)} characters, Telegram allows {MAX_MESSAGE_LENGTH}")
    if "<" not in text and "&" not in text:
        return problems
    checker = _TelegramHtmlChecker()
    checker.feed(text)
    checker.close()
    problems.extend(checker.problems)
    if checker.rawdata:
        problems.append(f"unfinished markup at the end: {checker.rawdata[:30]!r}")
    problems.extend(f"<{tag}> is not closed" for tag in reversed(checker.open_tags))
    problems.extend(_entity_problems(text))
    return problems


def _entity_problems(text: str) -> list[str]:
    problems: list[str] = []
    for found in _AMPERSAND.finditer(text):
        name = found.group(1)
        if name is None:
            problems.append("unescaped '&' (write &amp;)")
        elif not name.startswith("#") and name.lower() not in _ENTITIES:
            problems.append(f"entity &{name}; is not supported (use &lt; &gt; &amp; &quot;)")
    return problems
