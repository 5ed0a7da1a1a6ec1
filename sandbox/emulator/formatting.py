"""What Telegram makes of a text plus ``parse_mode``: the plain text and its entities.

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

_HTML_SIMPLE_TAGS: dict[str, str] = {
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
_HTML_TAGS = frozenset({*_HTML_SIMPLE_TAGS, "a", "tg-emoji", "blockquote"})
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
        if name not in _HTML_TAGS:
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
        "type": _HTML_SIMPLE_TAGS[tag.name],
        "offset": tag.start,
        "length": length,
    }
    if tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    return entity


# --------------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_PRE_SPACES = " \t\r\n"


@dataclass
class _OpenMarker:
    kind: str
    start: int
    byte: int


@dataclass
class _Quote:
    start: int
    expandable: bool


def _is_escapable(char: str) -> bool:
    return 1 <= ord(char) <= 126


def _reserved(char: str) -> EntityParseError:
    return EntityParseError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def _pre_entity(content: str, start: int) -> tuple[str, dict[str, Any]]:
    """Split ```lang\\ncode``` into the shown text and a ``pre`` entity (with language)."""
    split = next((k for k, c in enumerate(content) if c in _PRE_SPACES), None)
    if split is None:
        return content, {"type": "pre", "offset": start, "length": utf16_len(content)}
    language, rest = content[:split], content[split:]
    for newline in ("\r\n", "\n\r", "\n", "\r"):
        if rest.startswith(newline):
            rest = rest[len(newline) :]
            break
    entity: dict[str, Any] = {"type": "pre", "offset": start, "length": utf16_len(rest)}
    if language:
        entity["language"] = language
    return rest, entity


def parse_markdown_v2(source: str) -> FormattedText:
    """Parse MarkdownV2, including its rule that reserved characters must be escaped."""
    out = _Output()
    stack: list[_OpenMarker] = []
    entities: list[dict[str, Any]] = []
    quote: _Quote | None = None
    n = len(source)
    i = 0
    line_start = True

    def close_quote() -> None:
        nonlocal quote
        if quote is not None and out.pos > quote.start:
            kind = "expandable_blockquote" if quote.expandable else "blockquote"
            entities.append({"type": kind, "offset": quote.start, "length": out.pos - quote.start})
        quote = None

    def toggle(kind: str, width: int) -> None:
        nonlocal i
        if stack and stack[-1].kind == kind:
            opened = stack.pop()
            if out.pos > opened.start:
                entities.append(
                    {"type": kind, "offset": opened.start, "length": out.pos - opened.start}
                )
        else:
            stack.append(_OpenMarker(kind, out.pos, _byte_offset(source, i)))
        i += width

    while i < n:
        if line_start:
            line_start = False
            if source.startswith("**>", i):
                if quote is None:
                    quote = _Quote(out.pos, expandable=True)
                i += 3
                continue
            if source[i] == ">":
                if quote is None:
                    quote = _Quote(out.pos, expandable=False)
                i += 1
                continue
            close_quote()

        char = source[i]
        if char == "\\":
            if i + 1 < n and _is_escapable(source[i + 1]):
                out.add(source[i + 1])
                i += 2
            else:
                out.add("\\")
                i += 1
            continue
        if char == "\n":
            out.add(char)
            line_start = True
            i += 1
            continue
        if char == "`":
            i = _markdown_v2_code(source, i, out, entities)
            continue
        if char == "*":
            toggle("bold", 1)
            continue
        if char == "_":
            if source.startswith("__", i):
                toggle("underline", 2)
            else:
                toggle("italic", 1)
            continue
        if char == "~":
            toggle("strikethrough", 1)
            continue
        if char == "|":
            if not source.startswith("||", i):
                raise _reserved(char)
            at_line_end = i + 2 == n or source[i + 2] == "\n"
            top_is_spoiler = bool(stack) and stack[-1].kind == "spoiler"
            if quote is not None and quote.expandable and at_line_end and not top_is_spoiler:
                close_quote()
                i += 2
                continue
            toggle("spoiler", 2)
            continue
        if char == "[":
            toggle("text_link", 1)
            continue
        if char == "!" and source.startswith("![", i):
            stack.append(_OpenMarker("custom_emoji", out.pos, _byte_offset(source, i)))
            i += 2
            continue
        if char == "]":
            if not stack or stack[-1].kind not in ("text_link", "custom_emoji"):
                raise _reserved(char)
            i = _markdown_v2_link_end(source, i, stack.pop(), out, entities)
            continue
        if char in _MDV2_RESERVED:
            raise _reserved(char)
        out.add(char)
        i += 1

    close_quote()
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[top.kind]} entity at byte offset {top.byte}"
        )
    return FormattedText(out.text(), _sort_entities(entities))


def _markdown_v2_code(source: str, i: int, out: _Output, entities: list[dict[str, Any]]) -> int:
    """Parse `code` or ```pre``` starting at ``i``; return the index after it."""
    n = len(source)
    is_pre = source.startswith("```", i)
    j = i + (3 if is_pre else 1)
    content: list[str] = []
    closed = False
    while j < n:
        if source[j] == "\\" and j + 1 < n and _is_escapable(source[j + 1]):
            content.append(source[j + 1])
            j += 2
            continue
        if source[j] == "`" and (not is_pre or source.startswith("```", j)):
            closed = True
            break
        content.append(source[j])
        j += 1
    text = "".join(content)
    if not closed:
        kind = "Code"
        if is_pre:
            kind = "PreCode" if any(c in _PRE_SPACES for c in text) else "Pre"
        raise EntityParseError(
            f"Can't find end of {kind} entity at byte offset {_byte_offset(source, i)}"
        )
    start = out.pos
    if is_pre:
        shown, entity = _pre_entity(text, start)
    else:
        shown, entity = text, {"type": "code", "offset": start, "length": utf16_len(text)}
    out.add(shown)
    if entity["length"] > 0:
        entities.append(entity)
    return j + (3 if is_pre else 1)


def _markdown_v2_link_end(
    source: str, i: int, opened: _OpenMarker, out: _Output, entities: list[dict[str, Any]]
) -> int:
    """Handle the ``]`` closing [text](url) or ![emoji](tg://emoji?id=...) at ``i``."""
    n = len(source)
    length = out.pos - opened.start
    if not source.startswith("(", i + 1):
        if opened.kind == "custom_emoji":
            raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
        return i + 1
    j = i + 2
    url: list[str] = []
    closed = False
    while j < n:
        if source[j] == "\\" and j + 1 < n and _is_escapable(source[j + 1]):
            url.append(source[j + 1])
            j += 2
            continue
        if source[j] == ")":
            closed = True
            break
        url.append(source[j])
        j += 1
    if not closed:
        what = "a custom emoji URL" if opened.kind == "custom_emoji" else "a URL"
        raise EntityParseError(
            f"Can't find end of {what} at byte offset {_byte_offset(source, i + 2)}"
        )
    target = "".join(url)
    if opened.kind == "custom_emoji":
        emoji = re.fullmatch(r"tg://emoji\?id=(\d+)", target, flags=re.IGNORECASE)
        if emoji is None:
            raise EntityParseError("Custom emoji URL must have an emoji identifier")
        if length > 0:
            entities.append(
                {
                    "type": "custom_emoji",
                    "offset": opened.start,
                    "length": length,
                    "custom_emoji_id": emoji.group(1),
                }
            )
    else:
        entity = _link_entity(target, opened.start, length)
        if entity is not None:
            entities.append(entity)
    return j + 1


# ---------------------------------------------------------------------------- legacy Markdown


def parse_markdown(source: str) -> FormattedText:
    """Parse the legacy ``Markdown`` mode: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out = _Output()
    entities: list[dict[str, Any]] = []
    n = len(source)
    i = 0

    def unclosed(at: int) -> EntityParseError:
        return EntityParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(source, at)}"
        )

    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
            continue
        if char in "_*":
            end = source.find(char, i + 1)
            if end < 0:
                raise unclosed(i)
            inner = source[i + 1 : end]
            start = out.pos
            out.add(inner)
            if inner:
                kind = "bold" if char == "*" else "italic"
                entities.append({"type": kind, "offset": start, "length": utf16_len(inner)})
            i = end + 1
            continue
        if char == "`":
            is_pre = source.startswith("```", i)
            marker = "```" if is_pre else "`"
            end = source.find(marker, i + len(marker))
            if end < 0:
                raise unclosed(i)
            inner = source[i + len(marker) : end]
            start = out.pos
            entity: dict[str, Any]
            if is_pre and "\n" in inner:
                shown, entity = _pre_entity(inner, start)
            else:
                shown = inner
                entity = {"type": "pre" if is_pre else "code", "offset": start}
                entity["length"] = utf16_len(inner)
            out.add(shown)
            if entity["length"] > 0:
                entities.append(entity)
            i = end + len(marker)
            continue
        if char == "[":
            close = source.find("]", i + 1)
            if close < 0 or not source.startswith("(", close + 1):
                raise unclosed(i)
            url_end = source.find(")", close + 2)
            if url_end < 0:
                raise unclosed(i)
            inner = source[i + 1 : close]
            start = out.pos
            out.add(inner)
            link = _link_entity(source[close + 2 : url_end], start, utf16_len(inner))
            if link is not None:
                entities.append(link)
            i = url_end + 1
            continue
        out.add(char)
        i += 1
    return FormattedText(out.text(), _sort_entities(entities))


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
        elif mode == "markdownv2":
            formatted = parse_markdown_v2(text)
        elif mode == "markdown":
            formatted = parse_markdown(text)
        else:
            raise UnsupportedParseMode(parse_mode)
    else:
        formatted = FormattedText(text, [])
    return _trim(formatted)
