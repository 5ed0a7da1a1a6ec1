"""What Telegram makes of a text plus ``parse_mode``: the plain text and its entities.

Only HTML is parsed, as the app sends nothing else (Markdown raises NotImplementedError); the
tags and the entities they make are the bot's own table (``bot.telegram.html_tags``).

The fake session stores and returns messages the way Telegram does, so a bot that sends HTML
gets back a ``Message`` whose ``text`` has no tags and whose ``entities`` carry the formatting.
Markup Telegram would reject is rejected with Telegram's wording ("can't parse entities: ..."),
which is how unescaped user text in an HTML message shows up in a test instead of production.

Offsets and lengths are in UTF-16 code units (as in the Bot API); byte offsets in error messages
are UTF-8 byte offsets into the source text (as Telegram reports them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.telegram.html_tags import SIMPLE_TAGS, TAGS


class EntityParseError(Exception):
    """Markup Telegram refuses to parse; ``description`` is the Bot API error text."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def description(self) -> str:
        return f"Bad Request: can't parse entities: {self.detail}"


class UnsupportedParseMode(Exception):
    """A ``parse_mode`` the Bot API does not know."""


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


class _Output:
    """Collects the plain text and tracks the current UTF-16 position."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.pos = 0

    def add(self, text: str) -> None:
        self._parts.append(text)
        self.pos += utf16_len(text)

    def text(self) -> str:
        return "".join(self._parts)


def _link_entity(url: str, offset: int, length: int) -> dict[str, Any] | None:
    """A ``text_link`` (or ``text_mention`` for tg://user links), or None for an unusable URL."""
    url = url.strip()
    if not url or length <= 0:
        return None
    mention = re.fullmatch(r"tg://user\?id=(\d+)", url)
    if mention:
        user = {"id": int(mention.group(1)), "is_bot": False, "first_name": "User"}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url):
        return {"type": "text_link", "offset": offset, "length": length, "url": url}
    if "." in url and " " not in url:
        return {"type": "text_link", "offset": offset, "length": length, "url": f"http://{url}"}
    return None


# --------------------------------------------------------------------------------------- HTML

_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY = re.compile(r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|quot));?")
_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTR_NAME = re.compile(r"[A-Za-z0-9_-]*")
_UNQUOTED_VALUE = re.compile(r"[^\s>]*")
_INVALID_UNICODE = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


def _decode_html_entity(match: re.Match[str]) -> str | None:
    hex_code, dec_code, name = match.groups()
    if name is not None:
        return _HTML_NAMED[name]
    code = int(hex_code, 16) if hex_code is not None else int(dec_code)
    if code > 0x10FFFF:
        return None  # left as written
    if 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(_INVALID_UNICODE)
    return chr(code)


def _decode_html_text(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&":
            match = _HTML_ENTITY.match(text, i)
            if match:
                decoded = _decode_html_entity(match)
                if decoded is not None:
                    out.append(decoded)
                    i = match.end()
                    continue
        out.append(text[i])
        i += 1
    return "".join(out)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int
    language: str | None = None


def _skip_spaces(source: str, j: int) -> int:
    while j < len(source) and source[j].isspace():
        j += 1
    return j


_PLAIN_RUN = re.compile(r"[^&<]+")  # text up to the next entity or tag, added in one piece


def parse_html(source: str) -> FormattedText:
    """Parse Telegram's HTML subset (b, i, u, s, tg-spoiler, a, code, pre, blockquote, ...)."""
    out = _Output()
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)
    while i < n:
        char = source[i]
        if char == "&":
            match = _HTML_ENTITY.match(source, i)
            decoded = _decode_html_entity(match) if match else None
            if match and decoded is not None:
                out.add(decoded)
                i = match.end()
            else:
                out.add("&")
                i += 1
            continue
        if char != "<":
            run = _PLAIN_RUN.match(source, i)
            assert run is not None
            out.add(run.group())
            i = run.end()
            continue

        begin = _byte_offset(source, i)
        if source.startswith("</", i):
            name_match = _TAG_NAME.match(source, i + 2)
            assert name_match is not None
            name = name_match.group().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
            j = _skip_spaces(source, name_match.end())
            if j >= n or source[j] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
            top = stack[-1]
            if name and name != top.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{top.name}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            entity = _close_html_tag(top, out.pos, stack)
            if entity is not None:
                entities.append(entity)
            i = j + 1
            continue

        name_match = _TAG_NAME.match(source, i + 1)
        assert name_match is not None
        name = name_match.group().lower()
        j = name_match.end()
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        if name not in TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin}')
        attrs: dict[str, str] = {}
        while True:
            j = _skip_spaces(source, j)
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {begin}')
            if source[j] == ">":
                j += 1
                break
            attr_match = _ATTR_NAME.match(source, j)
            assert attr_match is not None
            attr = attr_match.group().lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {begin}'
                )
            j = _skip_spaces(source, attr_match.end())
            value = ""
            if j < n and source[j] == "=":
                j = _skip_spaces(source, j + 1)
                if j >= n:
                    raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {begin}')
                if source[j] in "\"'":
                    closing = source.find(source[j], j + 1)
                    if closing < 0:
                        raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                    value = _decode_html_text(source[j + 1 : closing])
                    j = closing + 1
                else:
                    value_match = _UNQUOTED_VALUE.match(source, j)
                    assert value_match is not None
                    value = value_match.group()
                    j = value_match.end()
            attrs[attr] = value
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {begin}'
            )
        stack.append(_OpenTag(name=name, attrs=attrs, start=out.pos))
        i = j

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return FormattedText(out.text(), _sort_entities(entities))


def _close_html_tag(tag: _OpenTag, end: int, stack: list[_OpenTag]) -> dict[str, Any] | None:
    length = end - tag.start
    css_class = tag.attrs.get("class", "")
    if tag.name == "code" and css_class.startswith("language-") and len(css_class) > 9:
        parent = stack[-1] if stack else None
        if parent is not None and parent.name == "pre" and parent.start == tag.start:
            parent.language = css_class[len("language-") :]
            return None
    if length <= 0:
        return None
    if tag.name == "a":
        href = tag.attrs.get("href")
        return _link_entity(href, tag.start, length) if href is not None else None
    if tag.name == "tg-emoji":
        return {
            "type": "custom_emoji",
            "offset": tag.start,
            "length": length,
            "custom_emoji_id": tag.attrs["emoji-id"],
        }
    if tag.name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
        return {"type": kind, "offset": tag.start, "length": length}
    entity: dict[str, Any] = {
        "type": SIMPLE_TAGS[tag.name],
        "offset": tag.start,
        "length": length,
    }
    if tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    return entity


# ------------------------------------------------------------------------------------- common

_TRIMMED = " \t\r\n"


def _trim(formatted: FormattedText) -> FormattedText:
    """Telegram drops leading and trailing whitespace; entities are clipped to what is left."""
    text = formatted.text
    stripped = text.strip(_TRIMMED)
    if stripped == text:
        return formatted
    lead = utf16_len(text[: len(text) - len(text.lstrip(_TRIMMED))])
    size = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in formatted.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


def format_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> FormattedText:
    """The stored form of an outgoing text or caption.

    Explicit ``entities`` win over ``parse_mode`` (as in the Bot API). Raises
    :class:`EntityParseError` for markup Telegram rejects and :class:`UnsupportedParseMode`.
    """
    if entities:
        cleaned = [dict(e) for e in entities if e.get("length", 0) > 0]
        formatted = FormattedText(text, _sort_entities(cleaned))
    elif parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            formatted = parse_html(text)
        elif mode in ("markdown", "markdownv2"):
            raise NotImplementedError("the emulator parses HTML only: the app sends HTML")
        else:
            raise UnsupportedParseMode(parse_mode)
    else:
        formatted = FormattedText(text, [])
    return _trim(formatted)
