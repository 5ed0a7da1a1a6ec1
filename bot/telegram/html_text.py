"""Telegram HTML measured and split the way Telegram counts it: the text after parsing.

A message in Telegram's HTML subset is parsed into its plain text and entities (offsets in
UTF-16 units, as the Bot API has them); the plain text is what `TEXT_LIMIT` and
`CAPTION_LIMIT` apply to. A text longer than the limit is split with `split_text` (paragraph,
line, sentence, word) and each part is rendered back to HTML with its share of the entities,
so formatting that spans a cut continues in the next part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from aiogram.types import MessageEntity
from aiogram.utils.text_decorations import html_decoration

from bot.telegram.html_tags import SIMPLE_TAGS
from bot.telegram.text_limits import split_text, utf16_len


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset


@dataclass
class _Parser(HTMLParser):
    text: list[str] = field(default_factory=list)
    length: int = 0
    stack: list[_Open] = field(default_factory=list)
    entities: list[MessageEntity] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(_Open(tag, {name: value or "" for name, value in attrs}, self.length))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].tag == tag:
                opened = self.stack.pop(index)
                self._close(opened)
                return

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.length += utf16_len(data)

    def _close(self, opened: _Open) -> None:
        length = self.length - opened.start
        if length <= 0:
            return
        entity: MessageEntity | None = None
        if opened.tag == "a" and "href" in opened.attrs:
            entity = MessageEntity(
                type="text_link", offset=opened.start, length=length, url=opened.attrs["href"]
            )
        elif opened.tag == "tg-emoji":
            entity = MessageEntity(
                type="custom_emoji",
                offset=opened.start,
                length=length,
                custom_emoji_id=opened.attrs.get("emoji-id", ""),
            )
        elif opened.tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in opened.attrs else "blockquote"
            entity = MessageEntity(type=kind, offset=opened.start, length=length)
        elif opened.tag == "code" and self.stack and self.stack[-1].tag == "pre":
            language = opened.attrs.get("class", "").removeprefix("language-")
            if language:
                self.stack[-1].attrs["language"] = language
                return
            entity = MessageEntity(type="code", offset=opened.start, length=length)
        elif opened.tag in SIMPLE_TAGS:
            entity = MessageEntity(
                type=SIMPLE_TAGS[opened.tag],
                offset=opened.start,
                length=length,
                language=opened.attrs.get("language") if opened.tag == "pre" else None,
            )
        if entity is not None:
            self.entities.append(entity)


def parse_html(source: str) -> tuple[str, list[MessageEntity]]:
    """The plain text of a Telegram HTML message and its entities (UTF-16 offsets)."""
    parser = _Parser()
    parser.feed(source)
    parser.close()
    while parser.stack:
        parser._close(parser.stack.pop())
    entities = sorted(parser.entities, key=lambda entity: (entity.offset, -entity.length))
    return "".join(parser.text), entities


def visible_length(source: str) -> int:
    """What Telegram counts against its limits: UTF-16 units of the text after parsing,
    leading and trailing white space left out (Telegram trims it)."""
    text, _ = parse_html(source)
    return utf16_len(text.strip())


def fits(source: str, limit: int) -> bool:
    """Whether the HTML's visible text is within `limit` (parsing never makes text longer,
    so a source within the limit needs no parsing)."""
    return utf16_len(source) <= limit or visible_length(source) <= limit


def split_html(source: str, limit: int) -> list[str]:
    """`source` as one or more HTML messages, each at most `limit` units of visible text."""
    if fits(source, limit):
        return [source]
    text, entities = parse_html(source)
    parts: list[str] = []
    cursor = 0
    for part in split_text(text, limit):
        start = text.index(part, cursor)
        cursor = start + len(part)
        begin, end = utf16_len(text[:start]), utf16_len(text[:cursor])
        pieces: list[MessageEntity] = []
        for entity in entities:
            low = max(entity.offset, begin)
            high = min(entity.offset + entity.length, end)
            if high > low:
                pieces.append(
                    entity.model_copy(update={"offset": low - begin, "length": high - low})
                )
        parts.append(html_decoration.unparse(part, pieces))
    return parts
