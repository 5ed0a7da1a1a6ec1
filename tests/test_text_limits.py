"""Texts measured and cut as Telegram counts them (UTF-16 units, after escaping)."""

from __future__ import annotations

from bot.telegram.text_limits import (
    ELLIPSIS,
    TEXT_LIMIT,
    shorten,
    shorten_escaped,
    shorten_line,
    split_text,
    utf16_len,
)


def test_emoji_outside_the_basic_plane_count_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("я") == 1


def test_shorten_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert shorten("short", 10) == "short"
    cut = shorten("😀" * 3000, 1000)
    assert utf16_len(cut) <= 1000
    assert cut.endswith(ELLIPSIS)


def test_shorten_line_makes_one_line_then_cuts() -> None:
    assert shorten_line("  two\n\nlines \t here ", 50) == "two lines here"
    cut = shorten_line("word \n" * 100, 20)
    assert "\n" not in cut and utf16_len(cut) <= 20 and cut.endswith(ELLIPSIS)


def test_shorten_escaped_fits_after_escaping() -> None:
    text = "<&>" * 1400  # 4,200 characters that grow to 15,400 when escaped
    cut = shorten_escaped(text, 4000)
    assert utf16_len(cut) <= 4000
    assert cut.startswith("&lt;&amp;&gt;")
    assert "<" not in cut
    assert shorten_escaped("a < b", 100) == "a &lt; b"


def test_split_prefers_paragraphs_then_sentences() -> None:
    first = "First paragraph. " * 100
    second = "Second one. " * 100
    parts = split_text(f"{first}\n\n{second}", limit=2000)
    assert parts == [first.strip(), second.strip()]
    parts = split_text("A sentence here. " * 400, limit=TEXT_LIMIT)
    assert all(utf16_len(part) <= TEXT_LIMIT for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == ("A sentence here. " * 400).strip()


def test_split_cuts_text_without_any_boundary() -> None:
    parts = split_text("😀" * 3000, limit=TEXT_LIMIT)
    assert [utf16_len(part) for part in parts] == [4096, 1904]
    assert "".join(parts) == "😀" * 3000
